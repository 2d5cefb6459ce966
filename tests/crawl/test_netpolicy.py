"""RELIABILITY groups E1/E2: SSRF policy, every encoding, redirects and DNS rebinding.

Blocked destinations are driven by a fake resolver (or IP literals) and the fetcher's
connect hook must record zero attempts; the conftest guard also fails any test that
tries to connect outside loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from faultserver import (
    LOOPBACK_POLICY,
    ConnectLog,
    FakeResolver,
    FaultServer,
    fetch_once,
    ok,
    redirect,
)

from breakingon.crawl.http import Fetcher
from breakingon.crawl.netpolicy import (
    BlockedAddress,
    DnsError,
    NetPolicy,
    check_url,
    parse_allow_networks,
    parse_ip_literal,
)
from breakingon.records import FetchResult

pytestmark = pytest.mark.timeout(30)

E1_LITERAL_HOSTS = [
    "127.0.0.1",
    "127.1",
    "0x7f000001",
    "2130706433",
    "0177.0.0.1",
    "0x7f.1",
    "0.0.0.0",
    "0",
    "[::]",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:a9fe:a9fe]",
    "[2002:7f00:1::]",
    "[2002:a00:1::1]",
    "[64:ff9b::a9fe:a9fe]",
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo wrapping 127.0.0.1
    "localhost",
    "localhost.",
    "api.localhost",
    "169.254.169.254",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fe80::1]",
    "224.0.0.1",
    "[ff02::1]",
    "240.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "[3fff::1]",  # IPv6 documentation (RFC 9637, 2024)
    "[3fff:fff:ffff::1]",
    "[5f00::1]",
    "[64:ff9b:1::1]",
    "[100:0:0:1::1]",
    "[2001:db8::1]",
    "192.0.2.1",
    "[::ffff:192.0.2.1]",
]

E1_RESOLVED = {
    "metadata.google.internal": ["169.254.169.254"],
    "ten.example": ["10.1.2.3"],
    "cgnat.example": ["100.64.1.1"],
    "ula.example": ["fd00::5"],
    "linklocal6.example": ["fe80::abcd"],
    "sixtofour.example": ["2002:7f00:1::"],
    "mapped.example": ["::ffff:192.168.0.1"],
    "mixed.example": ["93.184.216.34", "10.0.0.1"],
    "mixed6.example": ["2606:4700::6810:84e5", "::1"],
    "zero.example": ["0.0.0.0"],
    "doc6.example": ["3fff:234::1"],
}


def _fetch_blocked(
    url: str, resolver: FakeResolver | None = None
) -> tuple[FetchResult, ConnectLog]:
    log = ConnectLog()
    res = fetch_once(
        url, policy=NetPolicy(), resolver=resolver or FakeResolver({}), connect_hook=log
    )
    return res, log


# --- settings and URL shape -----------------------------------------------------------


def test_parse_allow_networks() -> None:
    nets = parse_allow_networks(" 127.0.0.0/8, 10.1.0.0/16 ,fd00::/8,")
    assert nets == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert parse_allow_networks("") == ()
    with pytest.raises(ValueError, match=r"BREAKINGON_FETCH_ALLOW_NETWORKS.*'10\.0\.0\.0/33'"):
        parse_allow_networks("127.0.0.0/8,10.0.0.0/33")
    with pytest.raises(ValueError, match="not-a-cidr"):
        NetPolicy.from_setting("not-a-cidr")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed",
        "gopher://example.com/",
        "data:text/html,<script>",
        "javascript:alert(1)",
        "example.com/feed",
        "//example.com/feed",
        "http://user@example.com/",
        "http://user:pw@example.com/",
        "http://example.com/a\r\nHost: evil",
        "http://example.com/a b",
        "http://exa mple.com/",
        "http://example.com/\x00",
        "http://example.com/" + "a" * 10_000,
        "http:///nohost",
        "http://example.com:99999/",
    ],
)
def test_e3_bad_url_shapes_are_refused(url: str) -> None:
    assert check_url(url) is not None
    res, log = _fetch_blocked(url)
    assert res.error == "bad_url"
    assert log.attempts == []


@pytest.mark.parametrize(
    "url", ["http://example.com/feed.xml", "https://EXAMPLE.com:8443/a?b=c#d", "http://bücher.de/"]
)
def test_good_url_shapes_pass(url: str) -> None:
    assert check_url(url) is None


def test_every_space_and_control_character_is_refused() -> None:
    # The check is a compiled character class built from U+0000..U+3000: it must refuse
    # what str.isspace(), C0 controls and DEL cover, across the whole of Unicode.
    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    assert max(spaces) <= 0x3000
    for code in [*spaces, *range(0x20), 0x7F]:
        assert check_url(f"http://example.com/a{chr(code)}b") is not None, hex(code)
    for char in "aZ9-._~é中":
        assert check_url(f"http://example.com/a{char}b") is None, char


def test_legacy_ipv4_encodings_are_understood() -> None:
    for host in ("127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.0.0.1"):
        assert parse_ip_literal(host) == ipaddress.ip_address("127.0.0.1"), host
    assert parse_ip_literal("[::ffff:7f00:1]") == ipaddress.ip_address("::ffff:127.0.0.1")
    assert parse_ip_literal("cafe.be") is None
    assert parse_ip_literal("example.com") is None


# --- E1: private and reserved destinations, all encodings -----------------------------


@pytest.mark.parametrize("host", E1_LITERAL_HOSTS)
def test_e1_blocked_literal_hosts_make_zero_connect_attempts(host: str) -> None:
    resolver = FakeResolver({})
    res, log = _fetch_blocked(f"http://{host}/feed", resolver)
    assert res.error == "address_not_allowed", res
    assert log.attempts == []
    assert resolver.calls == []  # literals and localhost never reach DNS


@pytest.mark.parametrize("host", sorted(E1_RESOLVED))
def test_e1_names_resolving_to_blocked_addresses_are_refused(host: str) -> None:
    resolver = FakeResolver(dict(E1_RESOLVED))
    res, log = _fetch_blocked(f"https://{host}/feed", resolver)
    assert res.error == "address_not_allowed", res
    assert res.detail  # the reason is recorded
    assert log.attempts == []


def test_e1_encoded_loopback_never_reaches_a_real_listener(server: FaultServer) -> None:
    server.routes["/feed"] = ok(b"<rss/>")
    for host in ("127.1", "0x7f000001", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]"):
        res, log = _fetch_blocked(f"http://{host}:{server.port}/feed")
        assert res.error == "address_not_allowed", host
        assert log.attempts == []
    assert server.stats.connections == 0


def test_e1_policy_verdicts_without_fetching() -> None:
    policy = NetPolicy()
    public = asyncio.run(policy.resolve_and_check("93.184.216.34", 80, FakeResolver({})))
    assert public == ["93.184.216.34"]
    public6 = asyncio.run(policy.resolve_and_check("[2606:4700::6810:84e5]", 443, FakeResolver({})))
    assert public6 == ["2606:4700::6810:84e5"]
    # A 6to4 address wrapping a public IPv4 is not refused for the wrapping alone.
    assert policy.is_allowed_ip(ipaddress.ip_address("2002:5db8:d822::1")) is None
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1"):
        asyncio.run(policy.resolve_and_check("mixed.example", 80, FakeResolver(dict(E1_RESOLVED))))
    with pytest.raises(DnsError):
        asyncio.run(
            policy.resolve_and_check("empty.example", 80, FakeResolver({"empty.example": []}))
        )


def test_e1_allow_list_reallows_only_its_ranges() -> None:
    policy = NetPolicy.from_setting("127.0.0.0/8,fd00::/8")
    assert policy.is_allowed_ip(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.is_allowed_ip(ipaddress.ip_address("127.5.6.7")) is None
    assert policy.is_allowed_ip(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert policy.is_allowed_ip(ipaddress.ip_address("fd00::1")) is None
    assert policy.is_allowed_ip(ipaddress.ip_address("10.0.0.1")) is not None
    assert policy.is_allowed_ip(ipaddress.ip_address("169.254.169.254")) is not None
    assert policy.is_allowed_ip(ipaddress.ip_address("::1")) is not None
    resolver = FakeResolver({"lan.example": ["127.0.0.1", "10.0.0.1"]})
    with pytest.raises(BlockedAddress):
        asyncio.run(policy.resolve_and_check("lan.example", 80, resolver))


def test_e1_allow_listed_loopback_is_fetched(server: FaultServer) -> None:
    server.routes["/feed"] = ok(b"<rss/>")
    log = ConnectLog()
    res = fetch_once(f"http://127.1:{server.port}/feed", connect_hook=log)
    assert res.error is None and res.body == b"<rss/>"
    assert log.attempts == [("127.1", "127.0.0.1", server.port)]


# --- E2: redirect and DNS-rebinding bypasses ------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://10.0.0.1:8080/admin",
    ],
)
def test_e2_redirect_to_a_private_address_is_blocked_at_the_hop(
    server: FaultServer, target: str
) -> None:
    server.routes["/feed"] = redirect(target, 302)
    resolver = FakeResolver(
        {"news.example": ["127.0.0.1"], "metadata.google.internal": ["169.254.169.254"]}
    )
    log = ConnectLog()
    res = fetch_once(server.url("/feed", host="news.example"), resolver=resolver, connect_hook=log)
    assert res.error == "address_not_allowed"
    assert res.final_url.startswith(target.split("/latest")[0].rstrip("/"))
    assert [ip for _, ip, _ in log.attempts] == ["127.0.0.1"]


def test_e2_redirect_to_a_non_http_scheme_is_refused(server: FaultServer) -> None:
    server.routes["/feed"] = redirect("file:///etc/passwd", 301)
    log = ConnectLog()
    res = fetch_once(server.url("/feed"), connect_hook=log)
    assert res.error == "bad_url"
    assert len(log.attempts) == 1


def test_e2_dns_rebinding_cannot_reach_the_second_answer(server: FaultServer) -> None:
    server.routes["/feed"] = ok(b"<rss/>")
    server.routes["/hop"] = redirect("/feed", 302)
    resolver = FakeResolver({"rebind.example": [["127.0.0.1"], ["10.0.0.7"]]})
    log = ConnectLog()

    async def go() -> tuple[FetchResult, FetchResult, FetchResult]:
        async with Fetcher(None, LOOPBACK_POLICY, resolver=resolver, connect_hook=log) as f:
            first = await f.fetch(server.url("/feed", host="rebind.example"))
            second = await f.fetch(server.url("/feed", host="rebind.example"))
            third = await f.fetch(server.url("/hop", host="rebind.example"))
            return first, second, third

    first, second, third = asyncio.run(go())
    assert first.error is None and first.body == b"<rss/>"
    # Every lookup after the first answers 10.0.0.7: refused before any connection.
    assert second.error == "address_not_allowed"
    assert third.error == "address_not_allowed"
    assert {ip for _, ip, _ in log.attempts} == {"127.0.0.1"}
    assert len(resolver.calls) == 3  # one lookup per hop; the client never resolves again


def test_e2_connection_is_pinned_to_the_validated_ip() -> None:
    # A server bound to 127.0.0.2 only: reaching it proves the socket went to the pinned IP,
    # while the request still names the host (Host header) it was made for.
    with FaultServer(host="127.0.0.2") as srv:
        srv.routes["/feed"] = ok(b"<rss/>")
        resolver = FakeResolver({"pinned.example": ["127.0.0.2"]})
        log = ConnectLog()
        res = fetch_once(
            srv.url("/feed", host="pinned.example"), resolver=resolver, connect_hook=log
        )
        assert res.error is None and res.body == b"<rss/>"
        assert log.attempts == [("pinned.example", "127.0.0.2", srv.port)]
        assert srv.requests[0].headers["host"] == f"pinned.example:{srv.port}"


NON_GLOBAL_SAMPLES = [
    # One address from each range of the IANA special-purpose registries that is not
    # globally reachable (IPv4 and IPv6), plus documentation ranges.
    "0.1.2.3", "10.1.1.1", "100.64.0.1", "127.0.0.2", "169.254.1.1", "172.16.5.5",
    "192.0.0.1", "192.0.0.170", "192.0.2.7", "192.88.99.1", "192.168.0.9", "198.18.1.1",
    "198.51.100.7", "203.0.113.7", "224.1.1.1", "240.1.1.1", "255.255.255.255",
    "::", "::1", "::ffff:10.0.0.1", "64:ff9b:1::5", "100::1", "100:0:0:1::5", "2001::1",
    "2001:2::1", "2001:10::1", "2001:db8::5", "3fff::5", "3fff:fff:ffff:ffff::1",
    "5f00::5", "fc00::5", "fd00::5", "fe80::5", "fec0::5", "ff05::1",
]  # fmt: skip


@pytest.mark.parametrize("address", NON_GLOBAL_SAMPLES)
def test_every_non_global_range_is_refused_by_default(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert NetPolicy().is_allowed_ip(ip) is not None
    host = f"[{address}]" if ip.version == 6 else address
    assert NetPolicy().literal_host_refusal(f"http://{host}/feed") is not None
    allowed = NetPolicy.from_setting(f"{address}/{ip.max_prefixlen}")
    assert allowed.literal_host_refusal(f"http://{host}/feed") is None


def test_literal_host_refusal_needs_no_dns() -> None:
    policy = NetPolicy()
    for url in (
        "http://127.1/f",
        "http://0x7f000001/f",
        "http://localhost/f",
        "http://a.localhost/f",
    ):
        assert policy.literal_host_refusal(url) is not None, url
    assert policy.literal_host_refusal("https://news.example/rss") is None  # resolved later
    assert policy.literal_host_refusal("http://93.184.216.34/rss") is None
