"""Record framing of an uncompressed WARC file, checked before warcio parses a record.

warcio reads header lines by concatenating buffer-sized pieces (quadratic in the line's
length: 104 s for one 64 MiB line), trusts Content-Length (an inflated one silently
merges the next record into this one) and drops a truncated last record without a word.
`read_frame` finds a record's bounds itself, in linear time and bounded memory: the WARC
header block must end within `MAX_HEADER_BYTES`, name a Content-Length, and the record
must end with the `\\r\\n\\r\\n` separator exactly where that length says. A record that
fails is a `Frame` with an `error`, and `read_plain` (used by `ops.warc.read_warc`)
turns it into a skip note and resynchronises on the next record header, or stops with a
`truncated_record` note at the end of the file. `read_gzip` does the same per gzip
member (inflated in bounded steps, at most `MAX_MEMBER_BYTES`). Only response records
small enough to be pages are then handed to warcio, as bytes whose HTTP header block is
also capped.
Pure apart from reading the file it is handed.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from warcio.archiveiterator import ArchiveIterator

MAX_HEADER_BYTES = 64 * 1024  # the WARC named fields of one record (real ones: < 2 KiB)
MAX_HTTP_HEADER_BYTES = 64 * 1024  # status line and headers of an archived response
SEPARATOR = b"\r\n\r\n"
_LEADING = 16  # room for stray CR/LF before a record
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,15})[ \t]*\r?$", re.I | re.M)
_FIELD = re.compile(rb"^(warc-type|warc-target-uri)[ \t]*:[ \t]*([^\r\n]*)\r?$", re.I | re.M)


@dataclass(frozen=True, slots=True)
class Frame:
    """One record's bounds: the header block is `[offset, content_start)`, the content
    `content_length` bytes from there, the next record starts at `next_offset`."""

    offset: int
    content_start: int = 0
    content_length: int = 0
    next_offset: int = 0
    rec_type: str = ""
    uri: str = ""
    error: str | None = None  # header_too_long, not_a_record, no_content_length,
    # length_mismatch (no separator where Content-Length ends), truncated_record


def _header_end(head: bytes) -> tuple[int, int] | None:
    """(end of the header block, its separator's length), or None when there is none."""
    crlf, lf = head.find(SEPARATOR), head.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return crlf, len(SEPARATOR)
    if lf >= 0:
        return lf, 2
    return None


@dataclass(frozen=True, slots=True)
class _Head:
    size: int  # the header block with its blank line
    rec_type: str
    uri: str
    content_length: int | None


def _parse_head(stripped: bytes) -> _Head | str:
    """The header block at the start of `stripped`, or why there is none."""
    found = _header_end(stripped[: MAX_HEADER_BYTES + len(SEPARATOR)])
    if found is None:
        return "header_too_long"
    end, sep = found
    block = stripped[:end]
    if not block.startswith(b"WARC/"):
        return "not_a_record"
    fields = {k.lower(): v.strip() for k, v in _FIELD.findall(block)}
    rec_type = fields.get(b"warc-type", b"").decode("latin-1")
    uri = fields.get(b"warc-target-uri", b"").decode("latin-1", "replace")[:2048]
    length = _CONTENT_LENGTH.search(block)
    return _Head(end + sep, rec_type, uri, int(length.group(1)) if length else None)


def read_frame(fh: IO[bytes], offset: int, size: int) -> Frame | None:
    """The frame of the record at `offset` (stray blank lines skipped), None at EOF."""
    fh.seek(offset)
    head = fh.read(MAX_HEADER_BYTES + _LEADING + len(SEPARATOR))
    stripped = head.lstrip(b"\r\n")
    if not stripped:
        return None
    offset += len(head) - len(stripped)
    parsed = _parse_head(stripped)
    if isinstance(parsed, str):
        at_eof = offset + len(stripped) >= size
        why = "truncated_record" if at_eof and parsed == "header_too_long" else parsed
        return Frame(offset, error=why)
    rec_type, uri = parsed.rec_type, parsed.uri
    if parsed.content_length is None:
        return Frame(offset, rec_type=rec_type, uri=uri, error="no_content_length")
    content_start = offset + parsed.size
    content_length = parsed.content_length
    content_end = content_start + content_length
    frame = Frame(offset, content_start, content_length, content_end, rec_type, uri)
    inner = _find_boundary(fh, content_start, min(content_end, size))
    if inner is not None:  # Content-Length runs over the next record: never merge them
        return Frame(offset, next_offset=inner, rec_type=rec_type, uri=uri,
                     error="length_mismatch")  # fmt: skip
    if content_end > size:
        return Frame(offset, rec_type=rec_type, uri=uri, error="truncated_record")
    fh.seek(content_end)
    tail = fh.read(len(SEPARATOR))
    if tail == SEPARATOR:
        return Frame(offset, content_start, content_length, content_end + 4, rec_type, uri)
    if content_end + len(tail) >= size and SEPARATOR.startswith(tail):
        return frame  # the last record, its separator cut short: the content is whole
    return Frame(offset, rec_type=rec_type, uri=uri, error="length_mismatch")


_BOUNDARY = SEPARATOR + b"WARC/"
_SCAN_CHUNK = 1 << 20


def _find_boundary(fh: IO[bytes], start: int, end: int) -> int | None:
    """Offset of a record header that follows a separator inside `[start, end)`, if any
    (linear: read in chunks that overlap by the boundary's length)."""
    pos = start
    while pos < end:
        fh.seek(pos)
        chunk = fh.read(min(_SCAN_CHUNK, end - pos) + len(_BOUNDARY) - 1)
        i = chunk.find(_BOUNDARY)
        if i >= 0 and pos + i + len(SEPARATOR) < end:
            return pos + i + len(SEPARATOR)
        pos += _SCAN_CHUNK
    return None


def _record_bytes(fh: IO[bytes], frame: Frame) -> bytes:
    fh.seek(frame.offset)
    return fh.read(frame.content_start + frame.content_length - frame.offset) + SEPARATOR


Page = Callable[[int, str, object, bytes], object]
"""Builds the caller's entry from (offset, uri, warcio record, body)."""
Note = Callable[[int, str, str], object]
"""Builds the caller's skip note from (offset, uri, reason)."""


def read_plain(
    fh: IO[bytes],
    start: int,
    size: int,
    *,
    max_page_bytes: int,
    reason_for: Callable[[object], str | None],
    resync: Callable[[IO[bytes], int, bool], int | None],
    page: Page,
    note: Note,
) -> Iterator[object]:
    """Every record of an uncompressed WARC from `start` on, as `page(...)` or `note(...)`."""
    pos = start
    while True:
        frame = read_frame(fh, pos, size)
        if frame is None:
            return
        if frame.error == "truncated_record":
            yield note(frame.offset, frame.uri, "truncated_record")
            return
        if frame.error is not None:
            yield note(frame.offset, frame.uri, f"broken_record:{frame.error}")
            nxt = frame.next_offset or resync(fh, frame.offset + 1, False)
            if nxt is None:
                return
            pos = nxt
            continue
        pos = frame.next_offset
        if frame.rec_type != "response":
            yield note(frame.offset, frame.uri, _type_reason(frame.rec_type))
            continue
        if frame.content_length > max_page_bytes + MAX_HTTP_HEADER_BYTES:
            yield note(frame.offset, frame.uri, "too_large")
            continue
        yield _parsed(fh, frame, frame.offset, max_page_bytes, reason_for, page, note)


def _parsed(
    fh: IO[bytes],
    frame: Frame,
    at: int,
    max_page_bytes: int,
    reason_for: Callable[[object], str | None],
    page: Page,
    note: Note,
) -> object:
    data = _record_bytes(fh, frame)
    content = data[frame.content_start - frame.offset :]
    if _header_end(content[: MAX_HTTP_HEADER_BYTES + len(SEPARATOR)]) is None:
        return note(at, frame.uri, "broken_record:http_header_too_long")
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data), check_digests=False)))
        reason = reason_for(record)
        body = b""
        if reason is None:
            body = record.content_stream().read(max_page_bytes + 1)
            if len(body) > max_page_bytes:
                reason = "too_large"
    except Exception as exc:  # a damaged payload is data, not a crash
        reason = f"broken_record:{type(exc).__name__}"
    if reason is not None:
        return note(at, frame.uri, reason)
    return page(at, frame.uri, record, body)


# --- gzip: one member per record (the WARC standard's recommendation) --------------------

_READ = 64 * 1024
_STEP = 1 << 20
MAX_MEMBER_BYTES = 1 << 30  # a member inflating past this is a bomb: skipped, not inflated


@dataclass(frozen=True, slots=True)
class _Member:
    data: bytes  # the first `keep` decompressed bytes
    total: int  # decompressed size of the whole member
    end: int  # file offset right after the member
    error: str | None = None  # truncated_record, gzip_error, too_large


def _inflate(fh: IO[bytes], offset: int, keep: int) -> _Member:
    """Decompress the gzip member at `offset` in bounded steps, keeping `keep` bytes."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    kept = bytearray()
    total = 0
    fh.seek(offset)
    pos = offset
    try:
        while not d.eof:
            chunk = fh.read(_READ)
            if not chunk:
                return _Member(bytes(kept), total, pos, "truncated_record")
            pos += len(chunk)
            data = chunk
            while data and not d.eof:
                out = d.decompress(data, _STEP)
                total += len(out)
                if total > MAX_MEMBER_BYTES:
                    return _Member(bytes(kept), total, pos, "too_large")
                if len(kept) < keep:
                    kept += out[: keep - len(kept)]
                data = d.unconsumed_tail
    except zlib.error:
        return _Member(bytes(kept), total, pos, "gzip_error")
    return _Member(bytes(kept), total, pos - len(d.unused_data))


def read_gzip(
    fh: IO[bytes],
    start: int,
    size: int,
    *,
    max_page_bytes: int,
    reason_for: Callable[[object], str | None],
    resync: Callable[[IO[bytes], int, bool], int | None],
    page: Page,
    note: Note,
) -> Iterator[object]:
    """Every record of a WARC gzipped per record, framed member by member like
    `read_plain`. A member that holds several records (a whole file gzipped at once, which
    warcio refuses as well) is one note."""
    keep = MAX_HEADER_BYTES + MAX_HTTP_HEADER_BYTES + max_page_bytes + 2 * len(SEPARATOR)
    pos = start
    while pos < size:
        member = _inflate(fh, pos, keep)
        at, pos = pos, member.end
        if member.error in ("gzip_error", "too_large"):
            why = "too_large" if member.error == "too_large" else "broken_record:gzip_error"
            yield note(at, "", why)
            nxt = resync(fh, at + 1, True)
            if nxt is None:
                return
            pos = nxt
            continue
        head = _parse_head(member.data.lstrip(b"\r\n"))
        uri = head.uri if isinstance(head, _Head) else ""
        if member.error == "truncated_record":
            yield note(at, uri, "truncated_record")
            return
        if isinstance(head, str) or head.content_length is None:
            why = head if isinstance(head, str) else "no_content_length"
            yield note(at, uri, f"broken_record:{why}")
            continue
        whole = head.size + head.content_length + len(SEPARATOR)
        if member.total > whole + len(SEPARATOR):  # bytes after the record in this member
            if whole < len(member.data) and not _has_record_after(member.data, whole):
                yield note(at, uri, "broken_record:length_mismatch")  # a short length
                continue
            # A whole file gzipped at once: not a WARC.gz (warcio refuses it too).
            yield note(at, uri, "broken_record:several_records_in_one_gzip_member")
            continue
        if member.total > keep:
            reason = "too_large" if head.rec_type == "response" else _type_reason(head.rec_type)
            yield note(at, uri, reason)
            continue
        frame = read_frame(io.BytesIO(member.data), 0, len(member.data))
        if frame is None:
            yield note(at, uri, "broken_record:empty")
            continue
        if frame.error is not None:  # a complete member: a short record is a wrong length
            why = "length_mismatch" if frame.error == "truncated_record" else frame.error
            yield note(at, uri, f"broken_record:{why}")
            continue
        if frame.rec_type != "response":
            yield note(at, uri, _type_reason(frame.rec_type))
            continue
        mem = io.BytesIO(member.data)
        yield _parsed(mem, frame, at, max_page_bytes, reason_for, page, note)


def _type_reason(rec_type: str) -> str:
    return "revisit" if rec_type == "revisit" else f"not_response:{rec_type or 'unknown'}"


def _has_record_after(data: bytes, whole: int) -> bool:
    return data[whole : whole + 64].lstrip(b"\r\n").startswith(b"WARC/")
