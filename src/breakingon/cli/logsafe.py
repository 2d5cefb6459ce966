"""Secrets never reach the log: every record's message is redacted when it is made.

`install(settings)` wraps the logging record factory once per process, so every logger
(BreakingOn's, uvicorn's access and error logs, httpx's) is covered whatever handler
prints it. A record's message (`msg % args`) is rewritten before any handler sees it:

- the configured secrets (`BREAKINGON_ADMIN_TOKEN`, `BREAKINGON_LLM_API_KEY`, the session
  secret, the VAPID private key and the whole SMTP URL) become `***`;
- in every URL, userinfo is dropped and query values become `…` (feed URLs can carry
  keys: `?token=...`), and a WebSub callback's path token (`/websub/<token>`) is masked;
- `Authorization: Bearer ...` and `GoogleLogin auth=...` values, and `api_key=` and
  `Passwd=` form values (the Fever key, a Google Reader sign-in), become `***`.

Tracebacks (`exc_info`) are formatted by the handlers and not rewritten. Composition
only: no I/O.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from breakingon.settings import Settings

MASK = "***"
_URL = re.compile(r"\b(https?://)([^\s/?#@'\"<>]*@)?([^\s?#'\"<>]*)(\?[^\s#'\"<>]*)?", re.I)
_WEBSUB = re.compile(r"(/websub/)[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer\s+|googlelogin\s+auth=|api_key=|passwd=)[^\s'\",&]+")
_QUERY_VALUE = re.compile(r"=[^&]*")

_secrets: tuple[str, ...] = ()
_installed = False


def _url(m: re.Match[str]) -> str:
    scheme, _userinfo, rest, query = m.group(1), m.group(2), m.group(3), m.group(4)
    if query:
        query = _QUERY_VALUE.sub("=\u2026", query)
    return f"{scheme}{rest}{query or ''}"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with secrets, URL userinfo and query values and callback tokens masked."""
    for secret in secrets or _secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL.sub(_url, text)
    text = _WEBSUB.sub(r"\1" + MASK, text)
    return _BEARER.sub(r"\1" + MASK, text)


def install(settings: Settings) -> None:
    """Redact every log record of this process from now on (idempotent)."""
    global _secrets, _installed
    configured = (
        settings.admin_token,
        settings.llm_api_key,
        settings.session_secret,
        settings.vapid_private_key,
        settings.smtp_url,
    )
    _secrets = tuple(s for s in configured if len(s) >= 4)
    if _installed:
        return
    _installed = True
    make: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as usual
            return record
        record.msg, record.args = redact(message), ()
        return record

    logging.setLogRecordFactory(factory)
