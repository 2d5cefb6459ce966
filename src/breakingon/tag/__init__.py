"""Tagging: the facts the pipeline stores once per article.

`facts` (`article_facts`: the one computation of an article's language, content hash and
MinHash signature, sections, places and page kind, used by every ingest path), `lang`
(language, and `signal_language`: which rules a language is read with), `sections` (the
section taxonomy and its offline classifier; `lexicons`: the other languages' keyword
lexicons), `places` (GeoNames places an article is about; `gazetteer`: the names it
looks up, per language; `placenames`: other languages' place names; `nonplaces`, `local`).
Pure, offline data only; must not touch the store, the network or the web layer.
"""
