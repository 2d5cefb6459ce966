"""Tests of the sentence encoder's precision modes (real MiniLM, on this CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from breakingon.cluster import embed

TEXTS = [
    "A magnitude 7.0 earthquake struck southern Peru on Tuesday near Arequipa.",
    "A federal jury in Boston convicted the former mayor of bribery and wire fraud.",
    "Michael Kors agreed to buy the shoemaker Jimmy Choo for $1.2 billion.",
    "",
]


def test_bfloat16_vectors_match_float32() -> None:
    full = embed.embed_texts(TEXTS, mode="float32")
    half = embed.embed_texts(TEXTS, mode="bfloat16")
    assert full.dtype == half.dtype == np.float32
    assert full.shape == half.shape == (len(TEXTS), embed.DIM)
    np.testing.assert_allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    cos = (full * half).sum(axis=1)
    assert cos.min() > 0.999
    # the order of neighbours is kept: each text is nearest to itself across modes
    assert ((half @ full.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


def test_auto_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "bf16_supported", lambda: True)
    assert embed.precision("auto") == "bfloat16"
    monkeypatch.setattr(embed, "bf16_supported", lambda: False)
    assert embed.precision("auto") == "float32"
    assert embed.precision("bfloat16") == "bfloat16"


def test_configure_sets_the_default_and_refuses_unknown_modes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embed, "_configured", "auto")
    embed.configure("float32")
    assert embed.precision() == "float32"
    with pytest.raises(ValueError, match="float16"):
        embed.configure("float16")
    assert embed.precision() == "float32"
    with pytest.raises(ValueError, match="int8"):
        embed.embed_texts(["x"], mode="int8")
