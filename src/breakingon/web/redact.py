"""What public pages may say about feeds and runs: no internal detail, no secrets.

A stored feed error is "code: detail", where the detail can name a redirect target's
host and the private address it resolved to ("10.0.0.5 is private"), or say that an
internal name does not exist: shown to anyone, that is a DNS oracle into the operator's
network. `public_error` keeps only a coarse class of the code, and every failure
before a connection (DNS, a refused address, an unusable redirect target) is the same
class, "unreachable", so a reader cannot tell a refused internal host from a missing one
(connections are only ever made to allowed addresses, so "timeout", "connection failed"
and "TLS failure" say nothing about internal hosts). `public_feed_url` shows
scheme://host/path: no userinfo, no query values, no fragment, and a path segment that
looks like a key is masked. A run's error keeps its exception type only, a worker's name
drops its host name ("host:pid:tag" -> "pid:tag"). The full detail stays for the
operator (the CLI, GET /api/admin/sources with the admin token).
Pure functions: no store, no request, no network.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "\u2026"  # "…"

UNREACHABLE = "unreachable"
_CLASSES: dict[str, str] = {
    "dns": UNREACHABLE,
    "address_not_allowed": UNREACHABLE,
    "bad_url": UNREACHABLE,
    "connect": "connection failed",
    "timeout": "timeout",
    "deadline_exceeded": "timeout",
    "tls": "TLS failure",
    "too_many_redirects": "bad redirect",
    "redirect_without_location": "bad redirect",
    "robots_disallowed": "disallowed by robots.txt",
    "rate_limited": "rate limited",
    "gone": "gone",
    "too_large": "too large",
    "bad_content_type": "not a feed",
}
_HTTP = re.compile(r"http_([1-5][0-9]{2})")
_CODE = re.compile(r"([a-z][a-z0-9_]{0,40})(?:$|[:\s])")  # "code: detail" or "code detail"
# A path segment that reads as a key or token rather than a name: long, one "word" of
# key characters, with digits in it (hex digests, base64url tokens, UUIDs).
_KEYLIKE = re.compile(r"[A-Za-z0-9_\-=.~+]{16,}")
_DIGITS = re.compile(r"[0-9]")


def public_error(last_error: str | None) -> str | None:
    """The coarse class of a stored feed error ("unreachable", "HTTP 404", "not a feed",
    ...), never its detail; None when there is no error."""
    if not last_error:
        return None
    m = _CODE.match(last_error.strip())
    if m is None:
        return "error"
    code = m.group(1)
    if code in _CLASSES:
        return _CLASSES[code]
    if h := _HTTP.fullmatch(code):
        return f"HTTP {h.group(1)}"
    return "not a feed"  # a parse or feed-format error of a body that did arrive


def public_run_error(error: str | None) -> str | None:
    """A run's error as its exception type only ("OperationalError"), or "error"."""
    if not error:
        return None
    name = error.split(":", 1)[0].strip()
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,80}", name) else "error"


def public_worker(worker: str) -> str:
    """A run's worker name without the host name the runner puts first."""
    parts = worker.split(":")
    return ":".join(parts[1:]) if len(parts) >= 3 else worker


def _segment(part: str) -> str:
    if _KEYLIKE.fullmatch(part) and len(_DIGITS.findall(part)) >= 4:
        return MASK
    return part


def public_feed_url(url: str) -> str:
    """`url` as scheme://host[:port]/path, without userinfo, query values or fragment
    (a query shows its parameter names: "?key=…"), key-like path segments masked; ""
    when it is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = "/".join(_segment(p) for p in parts.path.split("/"))
    out = f"{parts.scheme.lower()}://{netloc}{path}"
    if parts.query:
        names = []
        for pair in parts.query.split("&")[:20]:
            name = pair.split("=", 1)[0]
            if name and re.fullmatch(r"[A-Za-z0-9_\-.\[\]]{1,40}", name):
                names.append(f"{name}={MASK}")
        out += "?" + ("&".join(names) if names else MASK)
    return out
