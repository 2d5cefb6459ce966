"""Bounded body reading: decoded-size caps, bounded-step decompression, error codes.

`read_body` counts DECODED bytes against the cap (gzip bombs), refuses nested or
unsupported Content-Encoding and raises `Abort(code, detail)` on violations; `classify`
maps a transport exception to the fetcher's typed error code. Used by `crawl.http`.
"""

from __future__ import annotations

import ssl
import zlib
from collections.abc import Iterator

import httpx

_DECODE_STEP = 64 * 1024


class _Decoder:
    """Bounded-step gzip/deflate decoder: never inflates more than one step per call."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate_tried = False
        self._produced = False
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._d = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._d.eof:
            try:
                out = self._d.decompress(data, _DECODE_STEP)
            except zlib.error:
                # Some servers send raw deflate for "deflate"; retry once from the start.
                if (
                    self.encoding == "deflate"
                    and not self._produced
                    and not self._raw_deflate_tried
                ):
                    self._raw_deflate_tried = True
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            data = self._d.unconsumed_tail
            if out:
                self._produced = True
                yield out

    def finish(self) -> bytes:
        tail = self._d.flush()
        if not self._d.eof:
            raise zlib.error("compressed stream ended early")
        return tail


class Abort(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _content_encodings(headers: httpx.Headers) -> list[str]:
    out: list[str] = []
    for value in headers.get_list("content-encoding"):
        for part in value.split(","):
            enc = part.strip().lower()
            if enc and enc != "identity":
                out.append(enc)
    return out


async def read_body(resp: httpx.Response, limit: int, truncate: bool) -> bytes:
    """Read the body, counting DECODED bytes against `limit`; raise `Abort` on violations.

    With `truncate`, stop quietly at the limit instead (robots.txt: parse what we got).
    """
    encodings = _content_encodings(resp.headers)
    if len(encodings) > 1:
        raise Abort("encoding", f"nested Content-Encoding {', '.join(encodings)} refused")
    decoder: _Decoder | None = None
    if encodings:
        if encodings[0] not in ("gzip", "x-gzip", "deflate"):
            raise Abort("encoding", f"unsupported Content-Encoding {encodings[0]!r}")
        decoder = _Decoder(encodings[0])
    declared = resp.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit and not truncate:
        raise Abort("too_large", f"declared Content-Length {declared} > cap {limit}")
    buf = bytearray()
    raw_total = 0

    def add(piece: bytes) -> bool:
        room = limit - len(buf)
        if len(piece) > room:
            if not truncate:
                raise Abort("too_large", f"body exceeds cap of {limit} bytes (decoded)")
            buf.extend(piece[:room])
            return False
        buf.extend(piece)
        return True

    try:
        async for chunk in resp.aiter_raw():
            raw_total += len(chunk)
            if decoder is None:
                if not add(chunk):
                    return bytes(buf)
                continue
            if raw_total > limit and not truncate:
                raise Abort("too_large", f"encoded body exceeds cap of {limit} bytes")
            for piece in decoder.feed(chunk):
                if not add(piece):
                    return bytes(buf)
        if decoder is not None:
            add(decoder.finish())
    except zlib.error as exc:
        raise Abort("encoding", f"bad {decoder.encoding if decoder else ''} body: {exc}") from exc
    return bytes(buf)


def classify(exc: BaseException) -> tuple[str, str]:
    """Map a transport exception to a typed error code and a detail string."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", detail
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ssl.SSLError) or "CERTIFICATE" in str(cause).upper():
                return "tls", detail
            cause = cause.__cause__ or cause.__context__
        return "connect", detail
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "protocol", f"connection broken while transferring ({detail})"
    if isinstance(exc, httpx.ProtocolError):
        # httpx refuses an unparseable redirect Location as a protocol error.
        return ("bad_url" if "Invalid URL in location" in str(exc) else "protocol"), detail
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "bad_url", detail
    return "connect", detail
