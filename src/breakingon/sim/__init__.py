"""The newsroom simulator: a loopback server replaying a recorded article stream.

`server` (feeds, article pages, OPML, control API), `loopback` (the HTTP/1.1 listeners
and their event-loop thread), `stream` (the replayed stream and its clock), `page`
(realistic article pages). For tests, benchmarks and the offline demo; binds loopback
addresses only and must not touch the store or the pipeline.
"""
