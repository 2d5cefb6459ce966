"""Clustering: articles -> stories (one event, many outlets), online.

`embed` (the offline MiniLM encoder), `represent` (vectors, terms and entities of one
article), `workingset` (the bounded set of recent stories and its scoring), `repair`
(merges and splits, a component handed the working set), `clusterer` (composes the two:
the join decision, eviction, state export and import), `records` (decisions, repair
results and the working set as plain records), `linkage` (average link and the gap cut),
`state` (bytes for the persisted records), `batch` (a file of articles through the same
clusterer, B-cubed scoring). Pure and in memory: must not touch the store, the network
or the web layer.
"""
