"""The site, the JSON API and the feeds out: `create_app(settings, store)` (see web/app.py).

Reads the store and renders; never runs a pipeline stage and never writes to the store
except through the token-protected admin API and, for a signed-in reader, that reader's
own follows and read states (the Google Reader, Fever and /api/me APIs), their alert rules
and push subscriptions (CSRF-checked forms).
"""

from __future__ import annotations

from breakingon.web.app import create_app

__all__ = ["create_app"]
