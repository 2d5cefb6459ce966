"""WARC ingestion: archives written here with warcio, ingested into a real store.

HTML responses become extracted articles under their host's outlet; non-HTML, error
statuses, revisits, request/warcinfo records and a damaged stretch are skipped with a
reason; an interrupted run resumes from the recorded offset and nothing is stored twice.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from breakingon.extract.article import ExtractorPool
from breakingon.ops.warc import file_key, ingest_warc, read_warc
from breakingon.store import Store, open_store

CITIES = ("Lisbon", "Nairobi", "Osaka", "Quito", "Tallinn", "Perth", "Accra")
TOPICS = ("a new tram line", "a flood barrier", "a public library", "a solar farm")


def _story_text(i: int) -> list[str]:
    city, topic = CITIES[i % len(CITIES)], TOPICS[i % len(TOPICS)]
    return [
        f"Officials in {city} on Tuesday approved {topic} after a vote of {20 + i} to {i}.",
        f"The project in {city} is expected to cost {100 + 7 * i} million and to open in "
        f"{2026 + i % 3}, the mayor's office said in a statement.",
        f"Residents had campaigned for {topic} for {3 + i} years, and several neighbourhood "
        "groups welcomed the decision while business owners asked about the building works.",
        f"Construction of {topic} will begin next spring, according to the city engineer, "
        "who said traffic would be diverted during the first phase of the works.",
    ]


def _page(i: int, title: str) -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in _story_text(i))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        "<meta property='article:published_time' content='2025-02-10T08:00:00Z'></head>"
        "<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<main><article><h1>{title}</h1>{paras}</article></main>"
        "<footer>Copyright The Example Post. All rights reserved.</footer></body></html>"
    ).encode()


def _response(w: WARCWriter, url: str, body: bytes, ctype: str, status: str = "200 OK") -> None:
    headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
    rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
    w.write_record(rec)


def write_archive(path: Path, gzip: bool) -> dict[str, int]:
    """A small archive; returns the expected outcome counts."""
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=gzip)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "tests"}))
        for i in range(4):
            url = f"https://www.example-post.org/2025/02/story-{i}.html?utm_source=x"
            get = io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            req = w.create_warc_record(url, "request", payload=get)
            w.write_record(req)
            _response(w, url, _page(i, f"Council approves plan {i}"), "text/html; charset=utf-8")
        pdf = "https://files.example-post.org/report.pdf"
        _response(w, pdf, b"%PDF-1.4 ...", "application/pdf")
        _response(w, "https://www.example-post.org/gone", b"<html>gone</html>", "text/html",
                  "404 Not Found")  # fmt: skip
        _response(w, "https://www.example-post.org/empty", b"<html><body><nav>Home</nav>"
                  b"</body></html>", "text/html")  # fmt: skip
        fh.flush()
        fh.write(b"\x00garbage that is no WARC record at all\r\n\r\n" * 3)
        for i in range(4, 7):
            url = f"https://daily-courier.net/news/{i}"
            _response(w, url, _page(i, f"City backs project {i}"), "text/html")
        # the same page captured again: stored once
        _response(w, "https://daily-courier.net/news/4", _page(4, "City backs project 4"),
                  "text/html")  # fmt: skip
    return {"stored": 7, "already": 1}


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'warc.sqlite'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def extractor() -> Iterator[ExtractorPool]:
    with ExtractorPool(workers=1, timeout_s=20) as pool:
        yield pool


def test_reader_reports_every_record(tmp_path: Path) -> None:
    path = tmp_path / "a.warc"
    write_archive(path, gzip=False)
    entries = list(read_warc(path))
    reasons = [getattr(e, "reason", "page") for e in entries]
    assert reasons.count("page") == 9
    assert "not_response:warcinfo" in reasons
    assert reasons.count("not_response:request") == 4
    assert "not_html:application/pdf" in reasons
    assert "http_404" in reasons
    assert any(r.startswith("broken_record") for r in reasons)
    offsets = [e.offset for e in entries]
    assert offsets == sorted(offsets)


@pytest.mark.parametrize("gzip", [True, False])
def test_ingest_stores_pages_once_with_reasons(
    tmp_path: Path, sqlite_store: Store, extractor: ExtractorPool, gzip: bool
) -> None:
    path = tmp_path / ("a.warc.gz" if gzip else "a.warc")
    expected = write_archive(path, gzip=gzip)
    report = ingest_warc(path, sqlite_store, extractor, batch_size=4)
    assert report.finished
    assert report.stored == expected["stored"]
    assert report.already == expected["already"]
    assert report.skipped["http_404"] == 1
    assert report.skipped["not_html:application/pdf"] == 1
    assert sum(v for k, v in report.skipped.items() if k.startswith("broken_record")) >= 1
    assert sum(v for k, v in report.skipped.items() if k in ("too_short", "extract:no_text")) == 1
    arts = sqlite_store.list_articles(limit=100)
    assert len(arts) == 7
    assert len({a.url for a in arts}) == 7
    assert all("utm_source" not in a.url for a in arts)
    outlets = {o.name for o in sqlite_store.list_outlets()}
    assert outlets == {"example-post.org", "daily-courier.net"}
    assert sqlite_store.backlog().get("articles_extracted") == 7
    one = next(a for a in arts if a.url.endswith("story-2.html"))
    assert "Osaka" in one.text and one.title == "Council approves plan 2"
    assert one.language == "en" and one.content_hash
    # A finished file is not read again.
    again = ingest_warc(path, sqlite_store, extractor)
    assert again.finished and again.records == 0 and again.stored == 0


@pytest.mark.parametrize("gzip", [True, False])
def test_interrupted_run_resumes_from_recorded_offset(
    tmp_path: Path, sqlite_store: Store, extractor: ExtractorPool, gzip: bool
) -> None:
    path = tmp_path / ("b.warc.gz" if gzip else "b.warc")
    write_archive(path, gzip=gzip)
    first = ingest_warc(path, sqlite_store, extractor, batch_size=3, limit=8)
    assert not first.finished and first.records == 8
    saved = json.loads(sqlite_store.get_meta(file_key(path)) or "{}")
    assert saved["offset"] == first.last_offset and saved["done"] is False
    stored_first = sqlite_store.stats()["articles"]
    assert 0 < stored_first < 7

    second = ingest_warc(path, sqlite_store, extractor, batch_size=3)
    assert second.resumed_from == first.last_offset
    assert second.finished
    entries = list(read_warc(path))
    assert first.records + second.records == len(entries)  # every record once, none twice
    assert second.stored == 7 - stored_first
    arts = sqlite_store.list_articles(limit=100)
    assert len(arts) == len({a.url for a in arts}) == 7


def test_crash_between_store_and_offset_duplicates_nothing(
    tmp_path: Path, sqlite_store: Store, extractor: ExtractorPool
) -> None:
    path = tmp_path / "c.warc.gz"
    write_archive(path, gzip=True)
    ingest_warc(path, sqlite_store, extractor)
    # As if the process died after committing articles but before recording the offset.
    sqlite_store.set_meta(file_key(path), json.dumps({"offset": 0, "done": False}))
    redo = ingest_warc(path, sqlite_store, extractor)
    assert redo.stored == 0 and redo.already == 8
    assert sqlite_store.stats()["articles"] == 7


def test_cli_ingest_limit_resume_and_process(tmp_path: Path) -> None:
    path = tmp_path / "cli.warc.gz"
    write_archive(path, gzip=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")},
        "BREAKINGON_DATA_DIR": str(tmp_path / "data"),
        "BREAKINGON_EXTRACT_WORKERS": "1",
    }
    cmd = [sys.executable, "-c", "from breakingon.cli import main; main()", "ingest-warc"]
    out = subprocess.run(
        [*cmd, str(path), "--no-process", "--limit", "6"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout.strip().splitlines()[-1])
    assert first["files"][0]["finished"] is False
    out = subprocess.run([*cmd, str(path)], env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    second = json.loads(out.stdout.strip().splitlines()[-1])
    assert second["files"][0]["resumed_from"] == first["files"][0]["last_offset"]
    assert second["articles"] == 7
    assert second["stories"] >= 1
    s = open_store(f"sqlite:///{tmp_path / 'data' / 'breakingon.sqlite'}")
    try:
        backlog = s.backlog()
        assert backlog.get("articles_extracted", 0) == 0  # the story stages drained them
        assert backlog.get("articles_clustered") == 7
        assert all(a.story_id is not None for a in s.list_articles(limit=100))
    finally:
        s.close()
