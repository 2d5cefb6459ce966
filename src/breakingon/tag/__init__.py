"""Tagging: the facts the pipeline stores once per article.

`facts` (`article_facts`: the one computation of an article's language, content hash and
MinHash signature, sections, places and page kind, used by every ingest path), `lang`
(language), `sections` (the section taxonomy and its offline classifier), `places`
(GeoNames places an article is about). Pure, offline data only; must not touch the
store, the network or the web layer.
"""
