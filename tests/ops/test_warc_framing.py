"""WARC record framing: hostile and damaged archives, generated here byte by byte.

A very long header line is refused at a cap in linear time; a Content-Length that runs
over the next record (or falls short of the separator) is a note and the reader goes on
from the next record, never merging two; a truncated last record is a note.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from breakingon.ops.warc import ArchivePage, Skipped, read_warc

PAGE = b"<html><body>" + b"<p>The council met on Tuesday.</p>" * 40 + b"</body></html>"


def record(
    uri: str,
    body: bytes = PAGE,
    *,
    clen_delta: int = 0,
    extra: bytes = b"",
    http_extra: bytes = b"",
    rtype: str = "response",
) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + http_extra + b"\r\n" + body
    head = (
        b"WARC/1.0\r\nWARC-Type: " + rtype.encode() + b"\r\nWARC-Target-URI: " + uri.encode()
        + b"\r\n" + extra + b"WARC-Record-ID: <urn:uuid:" + uri.encode() + b">\r\n"
        + b"Content-Type: application/http; msgtype=response\r\n"
        + b"Content-Length: " + str(len(http) + clen_delta).encode() + b"\r\n\r\n"
    )  # fmt: skip
    return head + http + b"\r\n\r\n"


def entries(tmp_path: Path, data: bytes, name: str = "a.warc") -> list[tuple[str, str]]:
    path = tmp_path / name
    path.write_bytes(data)
    out = []
    for e in read_warc(path):
        assert isinstance(e, ArchivePage | Skipped)
        out.append((e.url, "page" if isinstance(e, ArchivePage) else e.reason))
    return out


def test_a_clean_plain_archive_reads_every_record(tmp_path: Path) -> None:
    data = record("http://a.example/1") + record("http://a.example/r", rtype="request")
    data += record("http://a.example/2")
    assert entries(tmp_path, data) == [
        ("http://a.example/1", "page"),
        ("http://a.example/r", "not_response:request"),
        ("http://a.example/2", "page"),
    ]


def test_a_very_long_header_line_is_refused_at_the_cap_in_linear_time(tmp_path: Path) -> None:
    long = record("http://l.example/1", extra=b"X-Padding: " + b"x" * (8 << 20) + b"\r\n")
    data = record("http://a.example/1") + long + record("http://a.example/2")
    started = time.perf_counter()
    got = entries(tmp_path, data)
    assert time.perf_counter() - started < 10
    assert got == [
        ("http://a.example/1", "page"),
        ("", "broken_record:header_too_long"),
        ("http://a.example/2", "page"),
    ]


def test_a_header_with_no_end_at_all_is_a_truncated_record(tmp_path: Path) -> None:
    data = record("http://a.example/1") + b"WARC/1.0\r\nWARC-Type: response\r\n" + b"y" * 50_000
    assert entries(tmp_path, data) == [("http://a.example/1", "page"), ("", "truncated_record")]


def test_a_very_long_http_header_line_is_refused(tmp_path: Path) -> None:
    long = record("http://l.example/1", http_extra=b"X-Long: " + b"z" * (1 << 20) + b"\r\n")
    data = long + record("http://a.example/2")
    assert entries(tmp_path, data) == [
        ("http://l.example/1", "broken_record:http_header_too_long"),
        ("http://a.example/2", "page"),
    ]


@pytest.mark.parametrize("gap", [0, 1, 500])
def test_an_inflated_content_length_never_merges_two_records(tmp_path: Path, gap: int) -> None:
    b, c = record("http://b.example/2"), record("http://c.example/3")
    # A claims to end exactly where B ends (B's separator then ends A), or further.
    a = record("http://a.example/1", clen_delta=len(b) + gap)[:-4]
    data = a + b"\r\n\r\n" + b + b"\0" * gap + c
    got = entries(tmp_path, data)
    assert got[0] == ("http://a.example/1", "broken_record:length_mismatch")
    assert ("http://b.example/2", "page") in got and ("http://c.example/3", "page") in got


def test_an_inflated_content_length_past_the_end_keeps_the_records_inside(
    tmp_path: Path,
) -> None:
    b = record("http://b.example/2")
    a = record("http://a.example/1", clen_delta=10 * len(b))[:-4]
    got = entries(tmp_path, a + b"\r\n\r\n" + b)
    assert got == [
        ("http://a.example/1", "broken_record:length_mismatch"),
        ("http://b.example/2", "page"),
    ]


def test_a_short_content_length_is_a_note_and_the_next_record_is_read(tmp_path: Path) -> None:
    data = record("http://a.example/1", clen_delta=-7) + record("http://b.example/2")
    assert entries(tmp_path, data) == [
        ("http://a.example/1", "broken_record:length_mismatch"),
        ("http://b.example/2", "page"),
    ]


@pytest.mark.parametrize("cut", [5, 100, 700])
def test_a_truncated_last_record_is_noted(tmp_path: Path, cut: int) -> None:
    last = record("http://c.example/3")
    data = record("http://a.example/1") + record("http://b.example/2") + last[:-cut]
    got = entries(tmp_path, data)
    assert got[:2] == [("http://a.example/1", "page"), ("http://b.example/2", "page")]
    if cut <= 4:  # only the separator is missing: the record itself is whole
        assert got[2] == ("http://c.example/3", "page")
    else:
        assert got[2:] == [("http://c.example/3", "truncated_record")]


def test_a_last_record_missing_only_its_separator_is_read(tmp_path: Path) -> None:
    data = record("http://a.example/1") + record("http://b.example/2")[:-2]
    assert entries(tmp_path, data) == [
        ("http://a.example/1", "page"),
        ("http://b.example/2", "page"),
    ]


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1)


def test_gzip_members_are_framed_the_same_way(tmp_path: Path) -> None:
    import base64
    import os

    a, b = record("http://a.example/1"), record("http://b.example/2")
    c = record("http://c.example/3")
    assert entries(tmp_path, gz(a) + gz(b) + gz(c), "ok.warc.gz") == [
        ("http://a.example/1", "page"),
        ("http://b.example/2", "page"),
        ("http://c.example/3", "page"),
    ]
    # A long header line that does not compress away (quadratic in warcio).
    pad = base64.b64encode(os.urandom(6 << 20))
    long = record("http://l.example/1", extra=b"X-Padding: " + pad + b"\r\n")
    started = time.perf_counter()
    got = entries(tmp_path, gz(a) + gz(long) + gz(c), "long.warc.gz")
    assert time.perf_counter() - started < 10
    assert got == [
        ("http://a.example/1", "page"),
        ("", "broken_record:header_too_long"),
        ("http://c.example/3", "page"),
    ]
    # A Content-Length over the member's end, and one short of the separator.
    inflated = record("http://a.example/1", clen_delta=len(b))
    short = record("http://s.example/4", clen_delta=-9)
    got = entries(tmp_path, gz(inflated) + gz(b) + gz(short) + gz(c), "len.warc.gz")
    assert got == [
        ("http://a.example/1", "broken_record:length_mismatch"),
        ("http://b.example/2", "page"),
        ("http://s.example/4", "broken_record:length_mismatch"),
        ("http://c.example/3", "page"),
    ]
    # A truncated last member.
    got = entries(tmp_path, gz(a) + gz(b) + gz(c)[:-30], "cut.warc.gz")
    assert got == [
        ("http://a.example/1", "page"), ("http://b.example/2", "page"),
        ("http://c.example/3", "truncated_record"),
    ]  # fmt: skip


def test_a_whole_file_gzipped_as_one_member_is_one_clear_note(tmp_path: Path) -> None:
    data = record("http://a.example/1") + record("http://b.example/2", rtype="request")
    data += record("http://c.example/3")
    assert entries(tmp_path, gz(data), "one.warc.gz") == [
        ("http://a.example/1", "broken_record:several_records_in_one_gzip_member"),
    ]


def test_ingest_reports_a_truncated_last_record(tmp_path: Path) -> None:
    from breakingon.extract.article import ExtractorPool
    from breakingon.ops.warc import ingest_warc
    from breakingon.store import open_store

    path = tmp_path / "cut.warc"
    path.write_bytes(
        record("http://a.example/1", rtype="request") + record("http://c.example/3")[:-50]
    )
    store = open_store(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        with ExtractorPool(workers=1, timeout_s=20) as pool:
            report = ingest_warc(path, store, pool)
    finally:
        store.close()
    assert report.finished
    assert report.skipped["truncated_record"] == 1
    assert report.skipped["not_response:request"] == 1
