"""The real `breakingon web` process on a loopback port, attacked at the connection:
a huge request head is refused (431, or the connection closed) long before it is all
sent, a head dripped a byte a second is cut off at the header deadline, an idle or
kept-alive connection is closed, and ordinary requests (big cookies, big bodies,
pipelining) still work."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "webserver-admin-token-0123"
HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
KEEPALIVE = 1.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    tmp = tmp_path_factory.mktemp("webserver")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT / "src"),
            "BREAKINGON_DATA_DIR": str(tmp / "data"),
            "BREAKINGON_ADMIN_TOKEN": TOKEN,
            "BREAKINGON_WEB_HEADER_TIMEOUT_S": str(HEAD_TIMEOUT),
            "BREAKINGON_WEB_KEEPALIVE_S": str(KEEPALIVE),
            "BREAKINGON_WEB_BODY_TIMEOUT_S": str(BODY_TIMEOUT),
            "BREAKINGON_LOG_LEVEL": "ERROR",
        }
    )
    port = _free_port()
    log = (tmp / "web.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from breakingon.cli import main; main()",
            "web",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "web.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.2)
        yield port, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _read_all(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """What the server sends until it closes the connection (True) or `timeout` passes."""
    sock.settimeout(0.2)
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def _still_serving(port: int) -> None:
    r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "head",
    [
        b"X-Big: " + b"a" * (1024 * 1024) + b"\r\n",  # one 1 MiB header
        b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 90) for n in range(12_000)),  # 12,000 headers
        b"Cookie: " + b"c" * 40_000 + b"\r\n",  # just over the cap, in one write
    ],
    ids=["one-huge-header", "many-headers", "just-over"],
)
def test_a_huge_request_head_is_refused(
    server: tuple[int, subprocess.Popen[bytes]], head: bytes
) -> None:
    port, proc = server
    sock = _connect(port)
    request = b"GET /about HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head + b"\r\n"
    sent = 0
    try:
        for i in range(0, len(request), 16384):
            sock.sendall(request[i : i + 16384])
            sent += 16384
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply, closed = _read_all(sock, 5)
    sock.close()
    assert closed, "the connection stayed open"
    assert reply == b"" or reply.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), reply[:80]
    assert b"200 OK" not in reply
    _still_serving(port)
    assert proc.poll() is None


def test_a_96_mib_head_is_cut_off_early(server: tuple[int, subprocess.Popen[bytes]]) -> None:
    port, _ = server
    sock = _connect(port)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
    chunk = b"a" * 65536
    sent = 0
    try:
        while sent < 96 * 1024 * 1024:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.close()
    # the server refused it after about the cap (plus socket buffers), not at 96 MiB
    assert sent < 16 * 1024 * 1024, sent
    _still_serving(port)


@pytest.mark.parametrize("prefix", [b"", b"GET /about HTTP/1.1\r\nHost: x\r\n"])
def test_a_dripped_head_is_closed_at_the_deadline(
    server: tuple[int, subprocess.Popen[bytes]], prefix: bytes
) -> None:
    port, _ = server
    sock = _connect(port)
    started = time.monotonic()
    if prefix:
        sock.sendall(prefix)
    closed = False
    drip = (b"" if prefix else b"GET /about HTTP/1.1\r\nHost: x\r\n") + b"X-Drip: " + b"d" * 100
    sock.settimeout(1.0)
    for byte in drip:
        try:
            sock.sendall(bytes([byte]))
            data = sock.recv(4096)  # waits about a second: one byte a second
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        if not data or data.startswith(b"HTTP/1.1 408"):
            closed = True
            break
    elapsed = time.monotonic() - started
    sock.close()
    assert closed, "a dripped head held the connection"
    assert elapsed < HEAD_TIMEOUT + 2.5, elapsed


def test_a_dripped_body_is_closed_at_its_deadline(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = server
    sock = _connect(port)
    sock.sendall(
        b"POST /api/admin/opml HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n".encode()
    )
    started = time.monotonic()
    closed = False
    sock.settimeout(1.0)
    for _ in range(20):
        try:
            sock.sendall(b"<")
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        if not data or data.startswith(b"HTTP/1.1 408"):
            closed = True
            break
    elapsed = time.monotonic() - started
    sock.close()
    assert closed, "a dripped body held the connection"
    assert elapsed < BODY_TIMEOUT + 2.5, elapsed


def test_idle_and_kept_alive_connections_are_closed(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = server
    idle = _connect(port)
    started = time.monotonic()
    _, closed = _read_all(idle, HEAD_TIMEOUT + 3)
    assert closed and time.monotonic() - started < HEAD_TIMEOUT + 2.5
    idle.close()

    kept = _connect(port)
    kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.monotonic()
    reply, closed = _read_all(kept, KEEPALIVE + 4)
    assert reply.startswith(b"HTTP/1.1 200") and closed
    assert time.monotonic() - started < KEEPALIVE + 2.5
    kept.close()

    # the next request on a kept-alive connection has the same head deadline
    again = _connect(port)
    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nG")
    started = time.monotonic()
    reply, closed = _read_all(again, HEAD_TIMEOUT + 4)
    assert reply.startswith(b"HTTP/1.1 200") and closed
    assert time.monotonic() - started < HEAD_TIMEOUT + 2.5
    again.close()


def test_ordinary_requests_still_work(server: tuple[int, subprocess.Popen[bytes]]) -> None:
    port, _ = server
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.get("/about", headers={"Cookie": "c=" + "x" * 8000, "X-Long": "y" * 4000})
        assert r.status_code == 200
        # a 3 MiB body is no head: the cap never applies to it (OPML allows 5 MiB)
        body = b"<opml><body>" + b" " * (3 * 1024 * 1024) + b"</body></opml>"
        r = client.post(
            "/api/admin/opml",
            content=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/x-opml"},
        )
        assert r.status_code in (200, 400), r.status_code
    sock = _connect(port)  # two pipelined requests on one connection
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /about HTTP/1.1\r\nHost: x\r\n\r\n")
    reply, _ = _read_all(sock, KEEPALIVE + 3)
    sock.close()
    assert reply.count(b"HTTP/1.1 200") == 2


def test_feed_links_follow_the_port_the_server_was_started_on(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = server  # started with --port and no BREAKINGON_PUBLIC_BASE_URL
    base = f"http://127.0.0.1:{port}"
    atom = httpx.get(f"{base}/feed.atom", timeout=10).text
    assert f'href="{base}/feed.atom"' in atom and f"<id>{base}/feed.atom</id>" in atom
    front = httpx.get(f"{base}/", timeout=10).text
    assert f'href="{base}/feed.rss"' in front
    assert "127.0.0.1:8080" not in atom + front
