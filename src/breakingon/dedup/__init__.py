"""Deduplication: syndicated copies of one text linked to the first copy seen.

`near`: content hashes, MinHash signatures and the bounded near-duplicate index. Pure:
no I/O, no store, no network, no settings object.
"""
