"""Canonical URLs and alias keys for article identity (unstable GUIDs).

Pure string work on URLs: no network, no DNS, no I/O. It must not touch the store,
the fetcher or any settings; callers pass everything in.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only track the reader, never select the content.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "igshid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "spm",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "share",
        "ito",
        "ncid",
        "cid",
        "s_cid",
        "wt_mc",
        "wt.mc_id",
        "xtor",
        "trk",
        "trkcampaign",
        "sc_cid",
        "feature",
        "rss",
        "__twitter_impression",
        "cmp",
        "campaign_id",
    }
)
_TRACKING_PREFIXES = ("utm_", "utm-", "pk_", "piwik_", "mtm_", "hsa_", "oly_", "vero_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CTRL = re.compile(r"[\x00-\x1f\x7f]")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def canonicalize_url(url: str, base: str | None = None) -> str:
    """Return the canonical form of `url`, or "" when it is not an http(s) URL.

    Lower-cases scheme and host, drops the default port, the fragment and tracking
    parameters (utm_*, fbclid, gclid, ...), sorts the remaining query parameters and
    resolves a relative URL against `base`.
    """
    raw = _CTRL.sub("", url or "").strip()
    if not raw:
        return ""
    if base:
        try:
            raw = urljoin(_CTRL.sub("", base).strip(), raw)
        except ValueError:
            return ""
    try:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return ""
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return ""
        port = parts.port
    except ValueError:
        return ""
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    query_pairs.sort()
    query = urlencode(query_pairs, quote_via=quote, safe="/:@!$'()*,;~-._")
    return urlunsplit((scheme, netloc, path, query, ""))


def alias_key(url_or_guid: str) -> str:
    """Key that survives http->https and host changes: the GUID/URL minus scheme and host.

    For a URL-shaped value: path plus sorted query without tracking parameters, no
    fragment, trailing slash removed, lower-cased path. Any other GUID is returned
    stripped. Two items with the same alias key in one feed are the same article.
    """
    value = (url_or_guid or "").strip()
    if not value:
        return ""
    lowered = value.lower()
    if lowered.startswith(("http://", "https://", "//")):
        canon = canonicalize_url(value if not value.startswith("//") else "http:" + value)
        if canon:
            parts = urlsplit(canon)
            path = parts.path.rstrip("/") or "/"
            return path.lower() + (f"?{parts.query}" if parts.query else "")
    if lowered.startswith(("tag:", "urn:")):
        return lowered
    return value
