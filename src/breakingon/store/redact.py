"""Passwords never reach a log line, an error message or a command line.

`redact_url` masks the password of a database URL (`postgresql://user:***@host/db`);
`redact_text` masks every `scheme://user:password@` in a message (a driver's error may
quote the URL it was given). Pure functions.
"""

from __future__ import annotations

import re

MASK = "***"
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*):[^\s/]*@")
_KEYWORD = re.compile(r"(?i)\b(password|passwd|pwd)\s*=\s*('[^']*'|\"[^\"]*\"|[^\s&;]+)")


def redact_text(text: str) -> str:
    """`text` with the password of every URL (and `password=...` pairs) masked."""
    text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    return _KEYWORD.sub(lambda m: f"{m.group(1)}={MASK}", text)


def redact_url(url: str) -> str:
    """The URL with its password (if any) masked; safe to log or show."""
    return redact_text(url)
