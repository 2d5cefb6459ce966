"""Briefs: cited, multi-source story briefs in the wire-brief shape.

`documents` chooses the articles a story's brief reads and writes it (the path the
story stage and the evaluation gate run); `extractive` writes a brief from source
sentences; `llm` optionally rewrites one with an operator-configured model (asked
through a client the caller injects) and keeps the rewrite only when every sentence
checks out. Pure: must not touch the store, the network or the web layer.
"""
