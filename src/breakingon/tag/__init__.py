"""Tagging: the facts the pipeline stores once per article.

`lang` (language), `sections` (the section taxonomy and its offline classifier),
`places` (GeoNames places an article is about). Pure, offline data only; must not touch
the store, the network or the web layer.
"""
