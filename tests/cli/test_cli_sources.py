"""The `breakingon` command as an operator runs it (a real process, a real SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["BREAKINGON_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_nothing_is_loaded_unasked_and_the_catalogue_on_request(tmp_path: Path) -> None:
    assert json.loads(run(tmp_path, "sources", "list", "--json").stdout) == []
    listing = run(tmp_path, "sources", "catalogue").stdout
    assert "by region" in listing and "Europe" in listing and "national" in listing
    assert "not news, left out" in listing and "podcast" in listing
    counts = json.loads(run(tmp_path, "sources", "catalogue", "--json").stdout)
    assert counts["news"] + sum(counts["non_news"].values()) == counts["feeds"] >= 2000
    assert json.loads(run(tmp_path, "stats", "--json").stdout)["feeds"] == 0  # still nothing

    added = run(tmp_path, "sources", "add-catalogue", "--country", "fr", "--country", "DE")
    out = json.loads(run(tmp_path, "sources", "list", "--json").stdout)
    assert out and {f["country"] for f in out} == {"FR", "DE"}
    assert f"added {len(out)} catalogue feeds (0 already present)" in added.stdout
    again = run(tmp_path, "sources", "add-catalogue", "--country", "FR").stdout
    assert "added 0 catalogue feeds" in again
    assert {"url", "outlet", "country", "language", "sections", "place"} <= set(out[0])
    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    assert stats["feeds"] == len(out) and stats["articles"] == 0 and stats["stories"] == 0


def test_add_catalogue_leaves_non_news_out_unless_asked(tmp_path: Path) -> None:
    run(tmp_path, "sources", "add-catalogue", "--section", "science")
    news = json.loads(run(tmp_path, "sources", "list", "--json").stdout)
    assert news and all("science" in f["sections"] for f in news)
    assert not [f for f in news if "podcast" in (f["url"] + f["outlet"]).lower()]
    run(tmp_path, "sources", "add-catalogue", "--section", "science", "--include-non-news")
    both = json.loads(run(tmp_path, "sources", "list", "--json").stdout)
    assert len(both) > len(news)
    assert [f for f in both if "podcast" in (f["url"] + f["outlet"]).lower()]
    bad = run(tmp_path, "sources", "add-catalogue", "--section", "recipes", ok=False)
    assert bad.returncode == 2 and "no catalogue topic 'recipes'" in bad.stderr
    bad = run(tmp_path, "sources", "add-catalogue", "--country", "France", ok=False)
    assert bad.returncode == 2 and "alpha-2" in bad.stderr
    none = run(tmp_path, "sources", "add-catalogue", "--country", "AQ", ok=False)
    assert none.returncode == 1 and "no catalogue feed matches" in none.stderr


def test_import_opml_retries_a_refused_connection_then_says_why(tmp_path: Path) -> None:
    """The simulator may still be starting: a refused connection is retried, and a
    server that starts meanwhile is imported; one that never answers is a clear error."""
    import socket
    import threading
    import time

    from breakingon.cli import sources

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    body = (
        b'<?xml version="1.0"?><opml version="2.0"><body>'
        b'<outline text="A" xmlUrl="http://127.0.0.1:9/a.rss"/></body></opml>'
    )

    def serve_later() -> None:
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/x-opml")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        time.sleep(1.5)
        with http.server.HTTPServer(("127.0.0.1", port), Handler) as server:
            server.handle_request()

    thread = threading.Thread(target=serve_later, daemon=True)
    thread.start()
    env_allow = {"BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8"}
    url = f"http://127.0.0.1:{port}/opml.xml"
    got = run_env(tmp_path, env_allow, "sources", "import-opml", url)
    assert "imported 1 new feeds" in got.stdout
    thread.join(10)
    assert sources.OPML_CONNECT_RETRY_S <= 30
    started = time.monotonic()
    dead = run_env(tmp_path, env_allow, "sources", "import-opml", url, ok=False)
    assert time.monotonic() - started >= sources.OPML_CONNECT_RETRY_S - 1
    assert dead.returncode == 2 and "nothing answered within" in dead.stderr
    assert "Traceback" not in dead.stderr


def run_env(
    tmp_path: Path, extra: dict[str, str], *args: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env["BREAKINGON_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_add_remove_and_errors(tmp_path: Path) -> None:
    assert (
        "added"
        in run(
            tmp_path,
            "sources",
            "add",
            "https://news.example/rss",
            "--outlet",
            "News",
            "--country",
            "fr",
            "--section",
            "world",
        ).stdout
    )
    assert "already present" in run(tmp_path, "sources", "add", "HTTPS://NEWS.example/rss/").stdout
    bad = run(tmp_path, "sources", "add", "file:///etc/passwd", ok=False)
    assert bad.returncode == 2 and "scheme 'file'" in bad.stderr and "Traceback" not in bad.stderr
    assert "removed" in run(tmp_path, "sources", "remove", "https://news.example/rss").stdout
    missing = run(tmp_path, "sources", "remove", "https://news.example/rss", ok=False)
    assert missing.returncode == 1


def test_opml_round_trip_through_the_database(tmp_path: Path) -> None:
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="World">'
        '<outline text="Le Monde" xmlUrl="https://lemonde.example/rss" country="FR" language="fr"/>'
        '<outline text="Local" xmlUrl="https://local.example/feed" place="USA | Boston"/>'
        "</outline></body></opml>"
    )
    assert "imported 2 new feeds" in run(tmp_path, "sources", "import-opml", str(opml)).stdout
    out = tmp_path / "out.opml"
    run(tmp_path, "sources", "export-opml", "--output", str(out))
    other = tmp_path / "other"
    other.mkdir()
    assert "imported 2 new feeds" in run(other, "sources", "import-opml", str(out)).stdout
    feeds = json.loads(run(other, "sources", "list", "--json").stdout)
    by_url = {f["url"]: f for f in feeds}
    assert by_url["https://lemonde.example/rss"]["country"] == "FR"
    assert by_url["https://lemonde.example/rss"]["sections"] == ["world"]
    assert by_url["https://local.example/feed"]["place"] == "USA | Boston"
    assert (
        "imported 0 new feeds (2 already present)"
        in run(other, "sources", "import-opml", str(out)).stdout
    )


def test_bad_opml_is_a_clear_error_and_stores_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body>'
        '<outline text="&a;" xmlUrl="https://x.example/"/></body></opml>'
    )
    proc = run(tmp_path, "sources", "import-opml", str(bomb), ok=False)
    assert proc.returncode == 2 and "DTDs and entities" in proc.stderr
    missing = run(tmp_path, "sources", "import-opml", str(tmp_path / "nope.opml"), ok=False)
    assert missing.returncode == 2 and "No such file" in missing.stderr


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    env = dict(os.environ, BREAKINGON_DATABASE_URL="mysql://nope")
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", "stats"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "BREAKINGON_DATABASE_URL" in proc.stderr


class _OneRoute:
    """A loopback HTTP server answering every GET with one fixed response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        import http.server
        import threading

        reply = (status, headers, body)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code, hdrs, data = reply
                self.send_response(code)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/opml.xml"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _OneRoute:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_import_opml_redirected_to_a_hostless_url_is_a_clear_error(tmp_path: Path) -> None:
    env_allow = {"BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8"}
    for location in ("javascript:alert(1)", "mailto:a@example.com", "http:foo", "//"):
        with _OneRoute(302, {"location": location}) as srv:
            proc = run_env(tmp_path, env_allow, "sources", "import-opml", srv.url, ok=False)
        assert proc.returncode == 2, (location, proc.stderr)
        assert "bad_url" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert json.loads(run(tmp_path, "sources", "list", "--json").stdout) == []


def test_add_refuses_private_and_loopback_addresses_unless_allow_listed(tmp_path: Path) -> None:
    for url in (
        "http://127.0.0.1:8080/rss",
        "http://127.1/rss",
        "http://0x7f000001/rss",
        "http://localhost/rss",
        "http://[::1]/rss",
        "http://10.1.2.3/rss",
        "http://192.168.0.10/rss",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:10.0.0.1]/rss",
        "http://[3fff::1]/rss",
        "http://[fd00::1]/rss",
    ):
        proc = run(tmp_path, "sources", "add", url, ok=False)
        assert proc.returncode == 2, (url, proc.stdout)
        assert "address not allowed" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(run(tmp_path, "sources", "list", "--json").stdout) == []
    allow = {"BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8,10.0.0.0/8"}
    assert "added" in run_env(tmp_path, allow, "sources", "add", "http://127.0.0.1:8080/rss").stdout
    assert "added" in run_env(tmp_path, allow, "sources", "add", "http://10.1.2.3/rss").stdout
    still = run_env(tmp_path, allow, "sources", "add", "http://192.168.0.10/rss", ok=False)
    assert still.returncode == 2 and "address not allowed" in still.stderr


def test_import_opml_refuses_private_feeds_and_bad_encodings(tmp_path: Path) -> None:
    opml = tmp_path / "mixed.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="Good" xmlUrl="https://good.example/rss"/>'
        '<outline text="Lan" xmlUrl="http://192.168.1.1/rss"/>'
        '<outline text="Meta" xmlUrl="http://169.254.169.254/rss"/></body></opml>'
    )
    got = run(tmp_path, "sources", "import-opml", str(opml))
    assert "imported 1 new feeds" in got.stdout and "2 refused" in got.stdout
    assert "192.168.1.1" in got.stderr
    assert [f["url"] for f in json.loads(run(tmp_path, "sources", "list", "--json").stdout)] == [
        "https://good.example/rss"
    ]
    for label in ("utf-7", "bogus", "unicode_escape"):
        bad = tmp_path / f"{label}.opml"
        bad.write_bytes(
            f'<?xml version="1.0" encoding="{label}"?><opml><body>'
            '<outline text="x" xmlUrl="https://x.example/rss"/></body></opml>'.encode()
        )
        proc = run(tmp_path, "sources", "import-opml", str(bad), ok=False)
        assert proc.returncode == 2 and "encoding" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
