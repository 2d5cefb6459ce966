"""SSRF policy: which URLs may be fetched and which IP addresses may be connected to.

`NetPolicy.check_url` validates a URL's shape (http/https only, no userinfo, no whitespace
or control characters, bounded length, a host). `NetPolicy.resolve_and_check` resolves a
host through an injectable `Resolver` and returns the addresses that may be connected to,
or raises `BlockedAddress`. Every address that is not global is refused (`is_global`
plus an explicit list: loopback, private, link-local, CGNAT, ULA, unspecified,
multicast, documentation including `3fff::/20`, reserved), in every encoding (legacy
numeric IPv4 forms such as `127.1` or `0x7f000001`, IPv4-mapped, IPv4-compatible, NAT64,
6to4 and Teredo IPv6 wrapping a blocked IPv4), and so is a name resolving to a mix of
public and blocked addresses. Operators may allow-list ranges
(`BREAKINGON_FETCH_ALLOW_NETWORKS`). `literal_host_refusal` applies the same policy to a
URL without DNS (IP literals, `localhost`), for checks when a source is added.

This module does no I/O of its own except through the resolver it is handed; it never
opens sockets and never reads the environment (the setting is parsed by the caller with
`parse_allow_networks`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

import idna

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048

# Ranges refused on top of `not is_global` (checked too), which older Pythons do not
# know for every range of the IANA special-purpose registries.
_BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches loopback on Linux (CVE-2025-24354)
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "100::/64",
        "2001::/23",  # IETF protocol assignments, Teredo included
        "2001:db8::/32",
        "3fff::/20",  # documentation (RFC 9637, 2024)
        "5f00::/16",  # SRv6 SIDs (RFC 9602)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100:0:0:1::/64",  # dummy prefix (RFC 9780)
        "fc00::/7",  # ULA
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPAT = ipaddress.ip_network("::/96")


class BlockedAddress(Exception):
    """The destination is not allowed by the SSRF policy; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DnsError(Exception):
    """The host name could not be resolved (NXDOMAIN, resolver failure, no addresses)."""


class Resolver(Protocol):
    """Turns a host name into IP address strings. Injectable so tests never touch DNS."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The default resolver: the event loop's `getaddrinfo` (all A and AAAA records)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        out: list[str] = []
        for info in infos:
            addr = str(info[4][0]).split("%", 1)[0]
            if addr not in out:
                out.append(addr)
        return out


def parse_allow_networks(value: str) -> tuple[IPNetwork, ...]:
    """Parse the comma-separated CIDRs of BREAKINGON_FETCH_ALLOW_NETWORKS.

    Raises ValueError naming the setting and the bad entry.
    """
    nets: list[IPNetwork] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"BREAKINGON_FETCH_ALLOW_NETWORKS: {item!r} is not a CIDR network ({exc})"
            ) from exc
    return tuple(nets)


@lru_cache(maxsize=16_384)
def parse_ip_literal(host: str) -> IPAddress | None:
    """Return the address a host string denotes as an IP literal, in any encoding.

    Accepts bracketed IPv6 and the legacy IPv4 forms `inet_aton` accepts (`127.1`,
    `0x7f000001`, `2130706433`, `0177.0.0.1`), because some resolvers and clients do.
    """
    h = host.strip().rstrip(".")
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.split("%", 1)[0]
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if h and all(c in "0123456789abcdefxABCDEFX." for c in h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _V4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why an address is refused by default (ignoring any allow-list), or None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = blocked_reason(inner)
            if why is not None:
                return f"{ip} wraps {why}"
    for net in _BLOCKED_NETWORKS:
        if ip.version == net.version and ip in net:
            return f"{ip} is in blocked range {net}"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return f"{ip} is not a public address"
    return None


@dataclass(frozen=True, slots=True)
class NetPolicy:
    """The SSRF policy. `allow_networks` re-allows ranges that are otherwise blocked."""

    allow_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_setting(cls, value: str) -> NetPolicy:
        """Build from the raw BREAKINGON_FETCH_ALLOW_NETWORKS value."""
        return cls(allow_networks=parse_allow_networks(value))

    def is_allowed_ip(self, ip: IPAddress) -> str | None:
        """None when connecting to `ip` is allowed, else the reason it is refused."""
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address):
            inner = _embedded_v4(ip)
            if inner is not None:
                candidates.append(inner)
        for cand in candidates:
            for net in self.allow_networks:
                if cand.version == net.version and cand in net:
                    return None
        return blocked_reason(ip)

    def check_url(self, url: str) -> str | None:
        """Validate a URL's shape. Returns None when acceptable, else the reason it is not."""
        return check_url(url)

    def literal_host_refusal(self, url: str) -> str | None:
        """Why a URL whose host is an IP literal (any encoding) or a `localhost` name is
        refused, without any DNS lookup; None for other names (resolved when fetched)."""
        try:
            host = (urlsplit(url).hostname or "").strip().lower().rstrip(".")
        except ValueError:
            return None  # the URL's shape is check_url's business
        if host == "localhost" or host.endswith(".localhost"):
            literals = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
        else:
            literal = parse_ip_literal(host)
            literals = [] if literal is None else [literal]
        for ip in literals:
            why = self.is_allowed_ip(ip)
            if why is not None:
                return f"{host}: {why}"
        return None

    async def resolve_and_check(self, host: str, port: int, resolver: Resolver) -> list[str]:
        """Resolve `host` and return the addresses that may be connected to.

        Raises `BlockedAddress` when any address is refused (a mix of public and blocked
        addresses is refused as a whole) and `DnsError` when nothing resolves.
        """
        name = host.strip().lower()
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        literal = parse_ip_literal(name)
        addrs: list[IPAddress]
        if literal is not None:
            addrs = [literal]
        elif name.rstrip(".") == "localhost" or name.rstrip(".").endswith(".localhost"):
            # RFC 6761: these names are loopback whatever a resolver says.
            addrs = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
        else:
            try:
                raw = await resolver.resolve(name, port)
            except (OSError, UnicodeError) as exc:
                raise DnsError(f"{name}: {exc}") from exc
            addrs = []
            for a in raw:
                try:
                    addrs.append(ipaddress.ip_address(a.split("%", 1)[0]))
                except ValueError as exc:
                    raise DnsError(f"{name}: resolver returned {a!r}") from exc
            if not addrs:
                raise DnsError(f"{name}: no addresses")
        for ip in addrs:
            why = self.is_allowed_ip(ip)
            if why is not None:
                raise BlockedAddress(f"{host}: {why}")
        out: list[str] = []
        for ip in addrs:
            if str(ip) not in out:
                out.append(str(ip))
        return out


# Every character str.isspace() calls a space (the last is U+3000), C0 controls and DEL.
_BAD_URL_CHAR = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x3001) if chr(c).isspace()) + "\x00-\x1f\x7f]"
)


def check_url(url: str) -> str | None:
    """Validate a URL's shape: http/https, a host, no userinfo, no whitespace, bounded length.

    Returns None when acceptable, else a short reason.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"URL longer than {MAX_URL_LENGTH} characters"
    if _BAD_URL_CHAR.search(url):
        return "URL contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if "@" in parts.netloc:
        return "URL carries userinfo"
    if not parts.hostname:
        return "URL has no host"
    if port == 0:
        return "port 0"
    return host_problem(parts.hostname)


@lru_cache(maxsize=16_384)
def host_problem(host: str) -> str | None:
    """Why a host name can never be fetched (an invalid IDNA name, a malformed A-label
    such as `xn--`), as httpx, which encodes it with `idna`, would refuse it; else None.

    Plain ASCII names are otherwise left to DNS (real hosts carry underscores)."""
    if parse_ip_literal(host) is not None:
        return None
    labels = [host] if not host.isascii() else [x for x in host.split(".") if x[:4] == "xn--"]
    for label in labels:
        try:
            idna.encode(label.lower())
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            return f"host {host!r} is not a valid domain name ({exc})"
    return None


def check_location(location: str) -> str | None:
    """Validate a redirect's Location before it is joined to the current URL.

    A relative reference (`/path`, `page?q`) is resolved against the current URL; one that
    names a scheme or an authority (`javascript:`, `mailto:`, `http:foo`, `//`) must be an
    absolute http(s) URL with a host, as `check_url` says. Returns None or the reason.
    """
    try:
        scheme = urlsplit(location).scheme
    except ValueError as exc:
        return f"malformed Location ({exc})"
    if scheme:
        return check_url(location)
    if location.startswith("//"):
        return check_url("http:" + location)
    return None
