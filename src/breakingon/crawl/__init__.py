"""The crawler: every outbound socket of BreakingOn, polite and hardened.

`crawl.http` fetches what content names (`Fetcher.fetch`, and `Fetcher.post_form` for
WebSub hub requests) through `crawl.transport`, which connects only to addresses the SSRF
policy (`crawl.netpolicy`) approved; `crawl.body` reads bodies under caps; `crawl.robots`
keeps robots.txt; `crawl.schedule` decides when a feed is polled next. `crawl.api` is the
long-lived JSON client for the operator's own configured endpoints (not under the SSRF
policy: those URLs come from settings, never from content). Nothing in this package
touches the store or the web layer.
"""
