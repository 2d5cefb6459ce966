"""A story's final headline and dek, decided once by the story stage.

Readers see the same headline and dek on every page, in the JSON API and in the feeds,
because the web layer shows what is stored here and repairs nothing. A feed title cut
with "…" is made whole from the dek or a member article's text; the dek never repeats
the sentence the headline already shows. Pure: strings in, strings out.
"""

from __future__ import annotations

from collections.abc import Sequence

from breakingon.records import BriefSentence
from breakingon.text import CUT_MARKS, tidy_space, whole_title


def first_sentence(text: str, limit: int = 300) -> str:
    """The first sentence of `text` (40 to `limit` characters), else its start, cut."""
    text = " ".join(text.split())
    for end in (". ", "! ", "? "):
        i = text.find(end)
        if 40 <= i <= limit:
            return text[: i + 1]
    return text[:limit].rsplit(" ", 1)[0] + ("…" if len(text) > limit else "")


def whole_headline(headline: str, dek: str, texts: Sequence[str]) -> str:
    """`headline` made whole from the dek, else from the first of `texts` (the
    representative article's first, then the others) that begins with it."""
    headline = whole_title(headline, dek)
    for text in texts:
        if not headline.endswith(CUT_MARKS):
            break
        headline = whole_title(headline, text[:2000])
    return headline


def dek_after(dek: str, headline: str) -> str:
    """The dek without the sentence the headline already shows ("" when nothing is left)."""
    text, head = tidy_space(dek), tidy_space(headline).removesuffix("…").removesuffix("...")
    if head and text.casefold().startswith(head.casefold()):
        return text[len(head) :].lstrip(" .,;:") if not headline.endswith(CUT_MARKS) else dek
    return dek


def brief_dek(sentences: Sequence[BriefSentence], headline: str) -> str:
    """The dek of a story with a brief: the brief's dek sentences but the one the headline
    repeats. The story page shows the brief's dek sentences this text holds."""
    head = tidy_space(headline)
    return " ".join(s.text for s in sentences if tidy_space(s.text) != head)
