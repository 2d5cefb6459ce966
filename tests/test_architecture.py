"""Guard rails of the package layout: dependencies declared, modules small, layers kept."""

from __future__ import annotations

import hashlib

from breakingon.text import ENGLISH_STOP_WORDS


def test_english_stop_words_are_scikit_learns_list_word_for_word() -> None:
    """The copied list must stay scikit-learn's (ENGLISH_STOP_WORDS of scikit-learn 1.x):
    clustering terms and place tagging drop exactly these words, and the README figures
    were measured with them."""
    assert len(ENGLISH_STOP_WORDS) == 318
    digest = hashlib.sha256(" ".join(sorted(ENGLISH_STOP_WORDS)).encode()).hexdigest()
    assert digest == "e570e9b41eab43e963c44d1d8b7ad441d084fa84f1104e01c9e8b41ad43feb89"
