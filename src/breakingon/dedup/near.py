"""Syndicated-copy detection: exact content hashes and MinHash-LSH near duplicates.

The same wire story republished by many outlets (new headline, a dateline, a line
cut or added) is linked to the first copy seen, so later stages count independent
reporting once. `content_hash` catches byte-for-byte copies after normalisation;
`NearDuplicateIndex` (datasketch MinHash + LSH over word 3-shingles) catches edited
copies. The index is bounded by a time window and an item cap and is rebuilt from
stored article texts (or stored signatures) at start. Pure: no I/O, no store, no
network, no settings object (callers pass `DedupSettings`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class DedupSettings:
    """Tuning of near-duplicate detection (values chosen in tests/dedup/test_near.py)."""

    num_perm: int = 128
    shingle: int = 3  # words per shingle
    # Estimated Jaccard of 3-shingle sets at or above which two texts are one story copy.
    # Edited wire copies measure 0.55-0.95; different articles on the same topic < 0.15.
    threshold: float = 0.5
    min_tokens: int = 25  # shorter texts are matched by exact hash only
    window: timedelta = timedelta(days=7)  # copies older than this are forgotten
    max_items: int = 200_000


def normalize_tokens(text: str) -> list[str]:
    """Casefolded NFKC word tokens (punctuation, markup spacing and case ignored)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())


def content_hash(text: str) -> str:
    """sha256 hex of the normalised token sequence: equal for copies that differ only
    in case, spacing, punctuation or Unicode form."""
    return hashlib.sha256(" ".join(normalize_tokens(text)).encode("utf-8")).hexdigest()


def _shingles(tokens: list[str], n: int) -> list[bytes]:
    if len(tokens) < n:
        return [" ".join(tokens).encode("utf-8")] if tokens else []
    return [" ".join(tokens[i : i + n]).encode("utf-8") for i in range(len(tokens) - n + 1)]


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """What the crawler stores to recognise copies of a text."""

    content_hash: str
    signature: bytes  # MinHash hash values, little-endian uint64


def fingerprints(text: str, cfg: DedupSettings = DedupSettings()) -> Fingerprints:
    """`content_hash` and `minhash_signature` of `text` in one pass (the text is
    normalised and shingled once)."""
    tokens = normalize_tokens(text)
    grams = _shingles(tokens, cfg.shingle)
    return Fingerprints(
        content_hash=hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest(),
        signature=_signature(_minhash_of(grams, cfg)),
    )


def minhash_signature(text: str, cfg: DedupSettings = DedupSettings()) -> bytes:
    """The MinHash signature of `text` as bytes (store it to rebuild the index cheaply)."""
    return _signature(_minhash(normalize_tokens(text), cfg))


def _signature(mh: MinHash) -> bytes:
    return bytes(mh.hashvalues.astype("<u8").tobytes())


_SCHEME = "affine32"


def _minhash(tokens: list[str], cfg: DedupSettings) -> MinHash:
    return _minhash_of(_shingles(tokens, cfg.shingle), cfg)


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> Any:
    """The (a, b) permutation parameters MinHash(seed=1) draws, drawn once."""
    return MinHash(num_perm=num_perm, seed=1, scheme=_SCHEME).permutations


def _minhash_of(grams: list[bytes], cfg: DedupSettings) -> MinHash:
    perms = _permutations(cfg.num_perm)
    mh = MinHash(num_perm=cfg.num_perm, seed=1, scheme=_SCHEME, permutations=perms)
    if grams:
        mh.update_batch(grams)
    return mh


def _from_signature(sig: bytes, cfg: DedupSettings) -> MinHash:
    values = np.frombuffer(sig, dtype="<u8").astype(np.uint64)
    # The scheme must match the one _minhash uses (datasketch 2.x default: affine32).
    return MinHash(num_perm=cfg.num_perm, seed=1, hashvalues=values, scheme=_SCHEME)


class NearDuplicateIndex:
    """Links each new text to the first earlier copy of it, within a bounded window.

    `add(key, text, at)` returns the key of the first copy (exact or near duplicate)
    or None when the text is new; a copy is not added itself, so every copy points at
    the same original. Entries older than `cfg.window` before the newest `at`, or
    beyond `cfg.max_items`, are evicted oldest first. Not thread-safe.
    """

    def __init__(self, cfg: DedupSettings = DedupSettings()) -> None:
        self.cfg = cfg
        self._lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
        self._minhashes: dict[str, MinHash] = {}
        self._hashes: dict[str, str] = {}  # content hash -> key
        self._order: OrderedDict[str, tuple[datetime, str]] = OrderedDict()  # key -> (at, hash)
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._order

    def add(
        self, key: str, text: str, at: datetime | None = None, signature: bytes | None = None
    ) -> str | None:
        """Index `text` under `key`; return the key of the first copy, or None if new."""
        when = (at or datetime.now(UTC)).astimezone(UTC)
        if self._newest is None or when > self._newest:
            self._newest = when
        self._evict()
        if key in self._order:
            return None
        tokens = normalize_tokens(text)
        digest = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()
        first = self._hashes.get(digest)
        if first is not None:
            return first
        minhash: MinHash | None = None
        if len(tokens) >= self.cfg.min_tokens:
            minhash = (
                _from_signature(signature, self.cfg) if signature else _minhash(tokens, self.cfg)
            )
            best: tuple[float, datetime, str] | None = None
            for candidate in self._lsh.query(minhash):
                other = self._minhashes.get(str(candidate))
                if other is None:
                    continue
                similarity = minhash.jaccard(other)
                if similarity >= self.cfg.threshold:
                    added_at = self._order[str(candidate)][0]
                    if best is None or (added_at, str(candidate)) < (best[1], best[2]):
                        best = (similarity, added_at, str(candidate))
            if best is not None:
                return best[2]
        self._hashes[digest] = key
        self._order[key] = (when, digest)
        if minhash is not None:
            self._lsh.insert(key, minhash)
            self._minhashes[key] = minhash
        return None

    def _evict(self) -> None:
        horizon = self._newest - self.cfg.window if self._newest else None
        while self._order:
            key, (added_at, digest) = next(iter(self._order.items()))
            # Strictly below the cap: the entry about to be added must fit too.
            if len(self._order) < self.cfg.max_items and (horizon is None or added_at >= horizon):
                break
            self._order.popitem(last=False)
            if self._hashes.get(digest) == key:
                del self._hashes[digest]
            if self._minhashes.pop(key, None) is not None:
                self._lsh.remove(key)

    @classmethod
    def rebuild(
        cls,
        rows: Iterable[tuple[str, str, datetime]],
        cfg: DedupSettings = DedupSettings(),
    ) -> NearDuplicateIndex:
        """An index holding the originals among stored (key, text, at) rows, oldest first."""
        index = cls(cfg)
        for key, text, at in sorted(rows, key=lambda row: row[2]):
            index.add(key, text, at)
        return index
