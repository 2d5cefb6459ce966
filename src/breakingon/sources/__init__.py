"""Sources: outlets and their feeds before any fetch.

`catalogue`: feed URL validation and identity keys, the packaged default catalogue,
OPML in and out. Pure apart from reading the packaged catalogue file; must not touch
the store, the network or the web layer.
"""
