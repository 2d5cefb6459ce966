"""Clustering: articles -> stories (one event, many outlets), online.

`embed` (the offline MiniLM encoder), `represent` (vectors, terms and entities of one
article), `workingset` (the bounded set of recent stories and its scoring), `clusterer`
(the join decision, eviction, state export and import), `repair` (merges and splits),
`linkage` (average link and the gap cut), `state` (the persisted form of the working
set), `batch` (a file of articles through the same clusterer, B-cubed scoring). Pure and
in memory: must not touch the store, the network or the web layer.
"""
