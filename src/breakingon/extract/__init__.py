"""Extraction: an article page -> its text, title, byline, date, lead image and page kind.

`article` runs trafilatura (and the hard-timeout worker pool it runs in); `pagekind`
recognises pages that are not news reports (consent walls, players, crawl notices).
Pure: bytes in, records out; must not open sockets, touch the store or the web layer.
"""
