"""Imported by page worker processes before they report ready (see `HardTimeoutPool`).

It caps the worker's memory first (`pagework.limit_memory`: the operator's
`extract_memory_mb`), then runs `pagework.warm()`, so the language model, gazetteer,
lexicons and extractor are loaded during the worker's start-up budget, not under the
first page's hard timeout (a cold worker under load could otherwise time out on its
first page, and so could every replacement of a killed worker). Import it nowhere
else: importing it does that work.
"""

from __future__ import annotations

from breakingon.pipeline.pagework import limit_memory, warm

limit_memory()
warm()
