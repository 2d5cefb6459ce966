"""The crawler: polite, hardened fetching (http, netpolicy, robots, schedule) and feed handling.

Only `crawl.http` opens outbound sockets (`Fetcher.fetch`, and `Fetcher.post_form` for
WebSub hub requests) (through `crawl.transport`, which connects only
to addresses the SSRF policy approved; `crawl.body` reads bodies under caps); every other
module here is pure or parses bytes it is given. Nothing in this package touches the store
or the web layer.
"""
