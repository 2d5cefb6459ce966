"""Offline language detection for articles (ISO 639-1 codes).

Wraps py3langid (a Naive Bayes model over byte n-grams that ships inside the
package): nothing is downloaded. Pure: no store, no network, no clock.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

# Below this normalised probability the answer is "" (unsure). Short or mixed
# texts (headlines of three words, code, numbers) land here instead of guessing.
MIN_CONFIDENCE = 0.80
# Fewer letters than this cannot be told apart reliably by a character model.
MIN_LETTERS = 12
# The classifier is linear in the input; the first few thousand characters decide.
MAX_CHARS = 4000

_lock = threading.Lock()
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_scores(text: str) -> tuple[str, float]:
    """Return the most likely language and its normalised probability (0..1)."""
    sample = text[:MAX_CHARS]
    if len(_LETTERS.findall(sample)) < MIN_LETTERS:
        return "", 0.0
    with _lock:
        lang, prob = _identifier().classify(sample)
    return str(lang), float(prob)


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`'s language, or "" when the text is too short or unclear."""
    lang, prob = language_scores(text)
    if prob < MIN_CONFIDENCE:
        return ""
    return lang


# The languages the signals have their own rules for: section lexicons, place names,
# trend stop words and headline rules (docs/signals.md, "Languages"). English is the
# original; the others were written by hand for BreakingOn.
SIGNAL_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "pt", "it", "nl")


def signal_language(code: str) -> str:
    """The rules a text in language `code` is read with: its own code when the signals
    have rules for it; "en" for an unknown language ("", as before languages were told
    apart: an undetected text is read as English); "*" for any other language (the
    language-neutral fallback of each signal)."""
    base = code.strip().lower().replace("_", "-").split("-")[0]
    if not base:
        return "en"
    return base if base in SIGNAL_LANGUAGES else "*"
