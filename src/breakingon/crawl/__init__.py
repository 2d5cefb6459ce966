"""The crawler: polite, hardened fetching (http, netpolicy, robots, schedule) and feed handling.

This package owns every outbound socket of BreakingOn. `crawl.http` fetches what content
names (through `crawl.transport`, which connects only to addresses the SSRF policy
approved; `crawl.body` reads bodies under caps); `crawl.api` is the long-lived JSON client
for the operator's own configured endpoints (not under the SSRF policy: those URLs come
from settings, never from content). Every other module here is pure or parses bytes it is
given. Nothing in this package touches the store or the web layer.
"""
