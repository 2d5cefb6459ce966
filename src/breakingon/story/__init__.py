"""The story stage: what a story is worth and what it says, from its articles.

`rank` (importance and its explanation), `breaking` (the breaking flag), `trends`
(bursting terms), `brief/` (cited briefs). Pure: records and `now` in, records out;
must not touch the store, the network or the web layer.
"""
