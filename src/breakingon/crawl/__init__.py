"""The crawler: every outbound socket of BreakingOn, polite and hardened.

`crawl.http` fetches what content names (`Fetcher.fetch`; `Fetcher.post_form` for WebSub
hub requests and `Fetcher.post` for the alert webhooks and push endpoints users give)
through `crawl.transport`, which connects only to addresses the SSRF policy
(`crawl.netpolicy`) approved; `crawl.body` reads bodies under caps; `crawl.robots` keeps
robots.txt; `crawl.schedule` decides when a feed is polled next. `crawl.api` is the
long-lived JSON client for the operator's own configured endpoints and `crawl.smtp`
sends mail (alert digests) to the operator's BREAKINGON_SMTP_URL (neither under the SSRF
policy: those addresses come from settings, never from content or users). Nothing in
this package touches the store or the web layer.
"""
