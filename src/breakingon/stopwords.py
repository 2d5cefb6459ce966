"""Stop words: the English list clustering and place tagging share, and the lists of
other languages (`stop_words`) the language-aware signals use."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["ENGLISH_STOP_WORDS", "stop_words"]


# English stop words: the list scikit-learn ships as
# sklearn.feature_extraction.text.ENGLISH_STOP_WORDS (318 words, itself from the Glasgow
# Information Retrieval Group's stop list), copied word for word so that the terms
# clustering and place tagging drop stay exactly the same. scikit-learn is distributed
# under the BSD 3-Clause licence (Copyright (c) 2007-2026 The scikit-learn developers).
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above across after afterwards again against all almost alone along already
    also although always am among amongst amoungst amount an and another any anyhow
    anyone anything anyway anywhere are around as at back be became because become
    becomes becoming been before beforehand behind being below beside besides between
    beyond bill both bottom but by call can cannot cant co con could couldnt cry de
    describe detail do done down due during each eg eight either eleven else elsewhere
    empty enough etc even ever every everyone everything everywhere except few fifteen
    fifty fill find fire first five for former formerly forty found four from front full
    further get give go had has hasnt have he hence her here hereafter hereby herein
    hereupon hers herself him himself his how however hundred i ie if in inc indeed
    interest into is it its itself keep last latter latterly least less ltd made many
    may me meanwhile might mill mine more moreover most mostly move much must my myself
    name namely neither never nevertheless next nine no nobody none noone nor not
    nothing now nowhere of off often on once one only onto or other others otherwise our
    ours ourselves out over own part per perhaps please put rather re same see seem
    seemed seeming seems serious several she should show side since sincere six sixty so
    some somehow someone something sometime sometimes somewhere still such system take
    ten than that the their them themselves then thence there thereafter thereby
    therefore therein thereupon these they thick thin third this those though three
    through throughout thru thus to together too top toward towards twelve twenty two un
    under until up upon us very via was we well were what whatever when whence whenever
    where whereafter whereas whereby wherein whereupon wherever whether which while
    whither who whoever whole whom whose why will with within without would yet you your
    yours yourself yourselves
    """.split()
)


@lru_cache(maxsize=64)
def stop_words(language: str) -> frozenset[str]:
    """Function words of `language` (ISO 639-1), casefolded: the `stop-words` package's
    list for it (33 languages, BSD 3-Clause) with the hand-written additions of
    `data/stopwords_extra.json` (months, weekdays, reporting verbs and the like, for
    de fr es pt it nl); English is `ENGLISH_STOP_WORDS`; empty for a language neither
    has."""
    if language == "en":
        return ENGLISH_STOP_WORDS
    from stop_words import StopWordError, get_stop_words

    try:
        words = set(get_stop_words(language))
    except StopWordError:
        words = set()
    words |= set(_extra().get(language, ()))
    return frozenset(w.casefold() for w in words if w.strip())


@lru_cache(maxsize=1)
def _extra() -> dict[str, list[str]]:
    text = resources.files("breakingon").joinpath("data/stopwords_extra.json").read_text("utf-8")
    data: dict[str, list[str]] = {k: v for k, v in json.loads(text).items() if k[:1] != "_"}
    return data
