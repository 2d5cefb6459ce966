"""Feeds: bytes we fetched -> sanitized, identified `FeedItem`s.

`parse` (RSS, Atom, JSON Feed under a hard time budget), `xmlguard` (DTD and entity
refusal before any XML parser), `sanitize` (nh3 HTML cleaning, plain text), `urls`
(canonical URLs, tracking parameters removed), `websub` (the WebSub protocol's pure
parts: hub discovery, push signatures, lease renewal time), `ingest` (a fetched or
pushed document -> the discovered `Article`s it announces, in a hard-timeout worker).
Pure: parses the bytes it is given; must not open sockets, touch the store, the web
layer or settings.
"""
