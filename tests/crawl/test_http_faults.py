"""RELIABILITY group A: network faults against real loopback servers that misbehave."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultserver import (
    LOOPBACK_POLICY,
    ConnectLog,
    FakeResolver,
    FaultServer,
    blackhole,
    drip,
    encoded_stream,
    fetch_once,
    gzip_bomb,
    gzip_bytes,
    infinite_chunked,
    ok,
    raw,
    redirect,
    small_settings,
    streamed,
)

from breakingon.crawl.http import Fetcher
from breakingon.records import FetchResult

pytestmark = pytest.mark.timeout(30)
MiB = 1 << 20


# --- A1: blackhole and DNS failure ----------------------------------------------------


def test_a1_accepts_but_never_replies_times_out(server: FaultServer) -> None:
    server.routes["/feed"] = blackhole()
    t0 = time.monotonic()
    res = fetch_once(server.url("/feed"), small_settings(read_timeout=0.5))
    assert res.error == "timeout"
    assert res.status is None and res.body == b""
    assert time.monotonic() - t0 < 2.5


def test_a1_listener_that_never_accepts_times_out_on_connect() -> None:
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the accept backlog so further SYNs are dropped
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(c)
        time.sleep(0.05)
        t0 = time.monotonic()
        res = fetch_once(f"http://127.0.0.1:{port}/feed", small_settings(connect_timeout=0.5))
        assert res.error == "timeout", res
        assert time.monotonic() - t0 < 2.5
    finally:
        for c in fillers:
            c.close()
        lst.close()


def test_a1_connection_refused_is_connect_error() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    res = fetch_once(f"http://127.0.0.1:{port}/feed")
    assert res.error == "connect"


def test_a1_nxdomain_is_dns_error_with_no_connect_attempt() -> None:
    log = ConnectLog()
    resolver = FakeResolver({})
    res = fetch_once("http://no-such-host.example/feed", resolver=resolver, connect_hook=log)
    assert res.error == "dns"
    assert resolver.calls == ["no-such-host.example"]
    assert log.attempts == []


def test_a1_blackhole_does_not_hold_other_fetches_and_frees_its_slot(server: FaultServer) -> None:
    server.routes["/hang"] = blackhole()
    server.routes["/fast"] = ok(b"<rss/>")

    async def go() -> tuple[FetchResult, FetchResult, float, FetchResult]:
        settings = small_settings(read_timeout=0.6, per_host_concurrency=1)
        async with Fetcher(settings, LOOPBACK_POLICY) as f:
            with FaultServer() as other:
                other.routes["/fast"] = ok(b"<rss/>")
                t0 = time.monotonic()
                hang_task = asyncio.create_task(f.fetch(server.url("/hang")))
                await asyncio.sleep(0.05)
                fast = await f.fetch(other.url("/fast"))
                fast_s = time.monotonic() - t0
                hang = await hang_task
            # The blackholed host's only slot was released: a new fetch there succeeds.
            again = await f.fetch(server.url("/fast"))
            return hang, fast, fast_s, again

    hang, fast, fast_s, again = asyncio.run(go())
    assert hang.error == "timeout"
    assert fast.error is None and fast.body == b"<rss/>"
    assert fast_s < 0.5
    assert again.error is None and again.status == 200


# --- A2: slowloris drip ---------------------------------------------------------------


def test_a2_slow_drip_is_cut_at_the_total_deadline(server: FaultServer) -> None:
    server.routes["/drip"] = drip(0.2, "/drip", server)
    settings = small_settings(read_timeout=0.5, total_deadline=1.5)
    t0 = time.monotonic()
    res = fetch_once(server.url("/drip"), settings)
    took = time.monotonic() - t0
    assert res.error == "deadline_exceeded"
    assert res.body == b"" and res.etag is None
    assert 1.4 <= took < 3.0
    # No single read timed out: bytes kept arriving faster than the read timeout.
    assert server.stats.bytes_sent.get("/drip", 0) >= 5


# --- A3: endless or oversized bodies --------------------------------------------------


def test_a3_infinite_chunked_stream_aborts_at_the_cap(server: FaultServer) -> None:
    server.routes["/inf"] = infinite_chunked("/inf", server)
    res = fetch_once(server.url("/inf"), small_settings(max_body_bytes=MiB))
    assert res.error == "too_large"
    assert res.body == b""
    time.sleep(0.2)
    # The server stopped being read soon after the cap (socket buffers aside).
    assert server.stats.bytes_sent["/inf"] < 64 * MiB


def test_a3_declared_content_length_over_cap_is_refused_before_reading(server: FaultServer) -> None:
    server.routes["/huge"] = streamed(str(10 * 1024**3), 10 * 1024**3, "/huge", server)
    t0 = time.monotonic()
    res = fetch_once(server.url("/huge"), small_settings(max_body_bytes=MiB))
    assert res.error == "too_large"
    assert "declared" in res.detail
    assert time.monotonic() - t0 < 2.0


def test_a3_lying_content_length_reads_only_what_was_declared(server: FaultServer) -> None:
    server.routes["/lie"] = streamed("1000", 100 * MiB, "/lie", server)
    res = fetch_once(server.url("/lie"), small_settings(max_body_bytes=MiB))
    assert res.error is None
    assert len(res.body) == 1000


def test_a3_close_delimited_body_over_cap_is_too_large(server: FaultServer) -> None:
    server.routes["/big"] = streamed(None, 5 * MiB, "/big", server)
    res = fetch_once(server.url("/big"), small_settings(max_body_bytes=MiB))
    assert res.error == "too_large"


def test_a3_body_just_under_the_cap_is_fine(server: FaultServer) -> None:
    server.routes["/fits"] = streamed(str(MiB), MiB, "/fits", server)
    res = fetch_once(server.url("/fits"), small_settings(max_body_bytes=MiB))
    assert res.error is None and len(res.body) == MiB


# --- A4: decompression bombs ----------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(1 << 30)  # ~1 MiB on the wire, 1 GiB decoded


def test_a4_gzip_bomb_aborts_at_decoded_cap_with_bounded_memory(
    server: FaultServer, bomb: bytes
) -> None:
    assert len(bomb) < 2 * MiB
    server.routes["/bomb"] = encoded_stream(bomb, {"Content-Encoding": "gzip"}, "/bomb", server)
    tracemalloc.start()
    try:
        # The cap (2 MiB) admits the compressed bytes, so only the decoded count stops it.
        res = fetch_once(server.url("/bomb"), small_settings(max_body_bytes=2 * MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.error == "too_large"
    assert "decoded" in res.detail
    # Peak stays near the cap, nowhere near the 1 GiB the bomb expands to.
    assert peak < 16 * MiB, peak


def test_a4_gzip_body_without_header_is_not_decoded(server: FaultServer, bomb: bytes) -> None:
    server.routes["/plain"] = encoded_stream(bomb, {}, "/plain", server)
    res = fetch_once(server.url("/plain"), small_settings(max_body_bytes=2 * MiB))
    assert res.error is None
    assert res.body == bomb  # raw bytes, counted as they are; nothing inflated


def test_a4_nested_encoding_is_refused(server: FaultServer) -> None:
    twice = gzip_bytes(gzip_bytes(b"<rss/>"))
    server.routes["/twice"] = ok(twice, {"Content-Encoding": "gzip, gzip"})
    res = fetch_once(server.url("/twice"))
    assert res.error == "encoding"
    assert "nested" in res.detail


def test_a4_unrequested_encoding_is_refused(server: FaultServer) -> None:
    server.routes["/br"] = ok(b"\x0b\x02\x80hello\x03", {"Content-Encoding": "br"})
    res = fetch_once(server.url("/br"))
    assert res.error == "encoding"


def test_a4_gzip_and_both_deflate_flavours_decode(server: FaultServer) -> None:
    payload = b"<rss>" + b"news " * 5000 + b"</rss>"
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    server.routes["/gz"] = ok(gzip_bytes(payload), {"Content-Encoding": "gzip"})
    server.routes["/zl"] = ok(zlib.compress(payload), {"Content-Encoding": "deflate"})
    server.routes["/rd"] = ok(
        raw_deflate.compress(payload) + raw_deflate.flush(), {"Content-Encoding": "deflate"}
    )
    for path in ("/gz", "/zl", "/rd"):
        res = fetch_once(server.url(path))
        assert res.error is None, (path, res)
        assert res.body == payload
    sent = server.hits("/gz")[0].headers["accept-encoding"]
    assert sent == "gzip, deflate"


def test_a4_truncated_gzip_is_an_encoding_error(server: FaultServer) -> None:
    server.routes["/cut"] = ok(gzip_bytes(b"x" * 100000)[:-20], {"Content-Encoding": "gzip"})
    res = fetch_once(server.url("/cut"))
    assert res.error == "encoding"


# --- A5: redirects --------------------------------------------------------------------


def test_a5_redirect_loop_stops_after_five_hops(server: FaultServer) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a")
    res = fetch_once(server.url("/a"))
    assert res.error == "too_many_redirects"
    assert len(server.requests) == 6  # the original request and 5 followed redirects


def test_a5_chain_of_ten_fails_and_chain_of_five_succeeds(server: FaultServer) -> None:
    for i in range(10):
        server.routes[f"/h{i}"] = redirect(f"/h{i + 1}")
    server.routes["/h10"] = ok(b"<feed/>")
    res = fetch_once(server.url("/h0"))
    assert res.error == "too_many_redirects"
    assert not server.hits("/h6")
    res5 = fetch_once(server.url("/h5"))
    assert res5.error is None and res5.body == b"<feed/>"
    assert res5.final_url == server.url("/h10")


def test_a5_redirect_without_location_is_an_error(server: FaultServer) -> None:
    server.routes["/nowhere"] = redirect(None, 301)
    res = fetch_once(server.url("/nowhere"))
    assert res.error == "redirect_without_location"
    assert res.status == 301


@pytest.mark.parametrize("code", [301, 308])
def test_a5_permanent_redirect_is_reported(server: FaultServer, code: int) -> None:
    server.routes["/old"] = redirect("/new", code)
    server.routes["/new"] = ok(b"<rss/>")
    res = fetch_once(server.url("/old"))
    assert res.error is None
    assert res.permanent_redirect == server.url("/new")
    assert res.final_url == server.url("/new")


@pytest.mark.parametrize("code", [302, 307])
def test_a5_temporary_redirect_is_never_reported_as_permanent(
    server: FaultServer, code: int
) -> None:
    server.routes["/old"] = redirect("/tmp", code)
    server.routes["/tmp"] = ok(b"<rss/>")
    res = fetch_once(server.url("/old"))
    assert res.error is None and res.body == b"<rss/>"
    assert res.permanent_redirect is None


def test_a5_permanent_then_temporary_reports_only_the_permanent_part(server: FaultServer) -> None:
    server.routes["/old"] = redirect("/moved", 301)
    server.routes["/moved"] = redirect("/today", 302)
    server.routes["/today"] = ok(b"<rss/>")
    res = fetch_once(server.url("/old"))
    assert res.permanent_redirect == server.url("/moved")
    assert res.final_url == server.url("/today")


# --- A6: TLS failures -----------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("openssl") is None:
        pytest.skip("A6 needs the openssl CLI to make test certificates at test time")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=BreakingOn Test CA",
        cwd=d,
    )
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "self.key",
        "-out",
        "self.pem",
        "-days",
        "2",
        "-subj",
        "/CN=feeds.test",
        "-addext",
        "subjectAltName=DNS:feeds.test",
        cwd=d,
    )
    (d / "good.ext").write_text("subjectAltName=DNS:feeds.test\n")
    (d / "other.ext").write_text("subjectAltName=DNS:other.test\n")
    for name, days, ext in (
        ("good", "2", "good.ext"),
        ("expired", "-1", "good.ext"),
        ("mismatch", "2", "other.ext"),
    ):
        _openssl(
            "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=leaf", cwd=d
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            days,
            "-extfile",
            ext,
            cwd=d,
        )
    yield d


def _tls_fetch(certs: Path, leaf: str, trust_test_ca: bool) -> FetchResult:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(certs / f"{leaf}.pem", certs / f"{leaf}.key")
    client_ctx = ssl.create_default_context(cafile=str(certs / "ca.pem")) if trust_test_ca else None
    with FaultServer(ssl_context=server_ctx) as srv:
        srv.routes["/feed"] = ok(b"<rss/>")
        resolver = FakeResolver({"feeds.test": ["127.0.0.1"]})
        return fetch_once(
            srv.url("/feed", host="feeds.test"), resolver=resolver, ssl_context=client_ctx
        )


def test_a6_valid_certificate_from_trusted_ca_works(certs: Path) -> None:
    res = _tls_fetch(certs, "good", trust_test_ca=True)
    assert res.error is None and res.body == b"<rss/>"


@pytest.mark.parametrize(
    ("leaf", "trust"),
    [("self", False), ("self", True), ("expired", True), ("mismatch", True)],
    ids=["self-signed", "self-signed-not-in-ca", "expired", "hostname-mismatch"],
)
def test_a6_bad_certificates_are_rejected_as_tls(certs: Path, leaf: str, trust: bool) -> None:
    res = _tls_fetch(certs, leaf, trust_test_ca=trust)
    assert res.error == "tls", res
    assert res.body == b""


def test_a6_default_settings_verify_certificates() -> None:
    assert Fetcher().settings.verify_tls is True


# --- A7: HTTP errors and truncated bodies ---------------------------------------------


@pytest.mark.parametrize("code", [404, 500])
def test_a7_http_errors_are_typed_and_keep_no_validators(server: FaultServer, code: int) -> None:
    server.routes["/e"] = ok(
        b"oops", {"ETag": '"new"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"}, status=code
    )
    res = fetch_once(server.url("/e"))
    assert res.error == f"http_{code}"
    assert res.status == code
    assert res.etag is None and res.last_modified is None and res.body == b""


def test_a7_garbage_status_line_is_protocol_error(server: FaultServer) -> None:
    server.routes["/g"] = raw(b"SPEAK FRIEND AND ENTER\r\n\r\n", "/g", server)
    res = fetch_once(server.url("/g"))
    assert res.error == "protocol"


def test_a7_truncated_body_is_protocol_error_not_a_short_feed(server: FaultServer) -> None:
    head = b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: "t"\r\n\r\n'
    server.routes["/t"] = raw(head + b"<rss>" + b"x" * 400, "/t", server)
    res = fetch_once(server.url("/t"))
    assert res.error == "protocol"
    assert res.body == b"" and res.etag is None


def test_a7_connection_reset_mid_body_is_protocol_error(server: FaultServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server.routes["/r"] = raw(head + b"10\r\n0123456789abcdef\r\n", "/r", server, reset=True)
    res = fetch_once(server.url("/r"))
    assert res.error == "protocol"
    assert res.body == b""


def test_a7_empty_200_is_returned_as_empty_not_as_an_error(server: FaultServer) -> None:
    server.routes["/empty"] = ok(b"")
    res = fetch_once(server.url("/empty"))
    assert res.error is None and res.status == 200 and res.body == b""
