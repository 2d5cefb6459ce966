"""The crawler: polite, hardened fetching (http, netpolicy, robots, schedule) and feed handling.

Only `crawl.http` opens outbound sockets; every other module here is pure or parses bytes
it is given. Nothing in this package touches the store or the web layer.
"""
