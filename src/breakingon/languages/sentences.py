"""Sentence rules for text that is not English: boundaries, word counts, datelines and
the per-language word rules `text.py` applies (first person, openings that lean back,
page furniture).

`text.split_sentences(..., lang=...)` and the brief's filters call these for a language
other than English; English (and text of unknown language, "") keeps `text.py`'s own
rules, unchanged. A sentence ends at . ! ? (or 。！？) when what follows starts like a
sentence in any script (an upper-case or caseless letter, a digit, an opening quote or
¿ ¡), and not after a listed abbreviation (`words.ABBREVIATIONS`), a single letter
("z. B.", "S.A.", "M. Dupont") or a German ordinal ("am 3. Oktober"). Pure: strings in,
strings out.
"""

from __future__ import annotations

import re

from breakingon.languages import words

__all__ = [
    "OPENING_MARKS",
    "ends_like_a_sentence",
    "first_person_in",
    "is_english",
    "is_noise_in",
    "is_promo_in",
    "negated_in",
    "number_words_in",
    "paragraphs_in",
    "personal_start_in",
    "pronoun_start_in",
    "split_paragraph_in",
    "strip_dateline_in",
    "word_count",
]

# Marks a sentence may open with besides a letter or digit (quotes of every convention,
# Spanish ¿ ¡, brackets, CJK corner brackets).
OPENING_MARKS = "\"'“‘„‚«»‹›¿¡([「『（"
_CLOSERS = "\"'”’“»«›‹)]」』）"
# A stop (or a CJK one), then closing marks, a French spaced closing guillemet allowed.
_CANDIDATE = re.compile(
    r"(?P<stop>[.!?]+|[。！？]+)(?P<close>(?:[" + re.escape(_CLOSERS) + r"]|[ \u00a0\u202f][»”])*)"
    r"(?P<gap>\s*)"
)
_LAST_TOKEN = re.compile(r"(?:^|[\s(\[\"'“‘„«])([^\s(\[\"'“‘„«]+)$")
_SINGLE_LETTER = re.compile(r"(?:^|[\s.(\[\"'“‘„«-])[^\W\d_]$")
_ORDINAL = re.compile(r"(?:^|\s)(?P<before>[^\W\d_]+\s+)?\d{1,2}$")
_QUOTED = re.compile(r"«[^«»]*»|„[^„“”]*[“”]|»[^«»]*«|‹[^‹›]*›|[\"“][^\"“”]*[\"”]")
_WORD = re.compile(r"[^\W\d_][\w\-]*['’]?")
_AGENCY = "|".join(re.escape(a) for a in sorted(words.AGENCIES, key=len, reverse=True))
_DATELINE = re.compile(
    r"^[^\W\d_][^\W\d_.'’\-]*(?:[ /\-][^\W\d_][^\W\d_.'’\-]*){0,3},?\s*\((?:" + _AGENCY + r")\)"
    r"\s*(?:[-—–:.]+\s*)?"
)


def is_english(lang: str) -> bool:
    """True for English and for text of unknown language (""): `text.py`'s own rules."""
    return lang in ("", "en")


def word_count(text: str, lang: str = "") -> int:
    """Words in `text`: white-space separated, or for a language written without spaces
    (Chinese, Japanese, Thai, ...) its letters halved (about one word per two)."""
    if lang in words.UNSPACED:
        return sum(1 for c in text if c.isalnum()) // 2
    return len(text.split())


def _starts_sentence(rest: str) -> bool:
    """Does the text after a stop open a new sentence: its first letter (after opening
    marks) upper case or of a script without case, or a digit."""
    for ch in rest[:4]:
        if ch in OPENING_MARKS or ch.isspace():
            continue
        return ch.isdigit() or (ch.isalpha() and not ch.islower())
    return False


def _no_break_after(head: str, rest: str, lang: str) -> bool:
    """A full stop that ends an abbreviation, an initial or a German ordinal."""
    body = head[:-1]  # the text before the stop
    if _SINGLE_LETTER.search(body):
        return True
    m = _LAST_TOKEN.search(body)
    token = m.group(1).lower().replace(".", "") if m else ""
    if token in words.COMMON_ABBREVIATIONS or token in words.ABBREVIATIONS.get(lang, ()):
        return True
    if lang == "de":
        o = _ORDINAL.search(body)
        if o is not None:
            nxt = rest.strip(OPENING_MARKS + " ").split(" ", 1)[0].strip(".,;:").lower()
            before = (o.group("before") or "").strip().lower()
            return nxt in words.GERMAN_ORDINAL_AFTER or before in words.GERMAN_ORDINAL_BEFORE
    return False


def split_paragraph_in(paragraph: str, lang: str) -> list[str]:
    """The raw sentences of one paragraph of text in `lang`; nothing is removed."""
    pieces: list[str] = []
    start = 0
    for m in _CANDIDATE.finditer(paragraph):
        end, nxt = m.end("close"), m.end()
        rest = paragraph[nxt : nxt + 40]
        if not rest:
            continue
        if m.group("stop")[0] not in "。！？":  # a CJK stop ends a sentence as it is
            if m.group("gap") and not _starts_sentence(rest):
                continue
            if not m.group("gap") and not _glued(paragraph, m.start(), rest):
                continue
        head = paragraph[start:end]
        if m.group("stop") == "." and _no_break_after(head.rstrip(_CLOSERS + " "), rest, lang):
            continue
        pieces.append(head)
        start = nxt
    pieces.append(paragraph[start:])
    return [p.strip() for p in pieces if p.strip()]


def _glued(paragraph: str, stop: int, rest: str) -> bool:
    """Two sentences glued by a lost space ("aus Brüssel.Die Kommission"): three lower-case
    letters, the stop, then a capitalised word."""
    before = paragraph[max(0, stop - 3) : stop]
    return (
        len(before) == 3
        and all(c.isalpha() and c.islower() for c in before)
        and len(rest) >= 2
        and rest[0].isupper()
        and rest[1].islower()
    )


def paragraphs_in(text: str) -> list[str]:
    """Paragraphs of a text: split at blank lines, and at a line break before a line that
    opens like a sentence (in any script)."""
    out: list[str] = []
    current: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        for line in block.split("\n"):
            if current and line.strip() and _starts_sentence(line.lstrip()):
                out.append("\n".join(current))
                current = []
            current.append(line)
        out.append("\n".join(current))
        current = []
    return out


def ends_like_a_sentence(sentence: str) -> bool:
    """A stop at the end, then closing marks (a French spaced » allowed)."""
    return bool(re.search(r"[.!?。！？](?:\s?[" + re.escape(_CLOSERS) + r"])*$", sentence))


def strip_dateline_in(sentence: str) -> str:
    """`sentence` without a leading place and agency tag ("München (dpa) - ")."""
    return _DATELINE.sub("", sentence, count=1).strip()


def _tokens(text: str) -> list[str]:
    return [t.lower().replace("’", "'") for t in _WORD.findall(text)]


def first_person_in(sentence: str, lang: str) -> bool:
    """`sentence`, outside its quotations (« », „ “, » «, " "), speaks as I or we, or to
    "you", in `lang`'s words; False for a language without lists."""
    mine = words.FIRST_PERSON.get(lang, frozenset()) | words.SECOND_PERSON.get(lang, frozenset())
    return any(t in mine for t in _tokens(_QUOTED.sub(" ", sentence)))


def _opening(sentence: str) -> list[str]:
    return _WORD.findall(sentence.strip().lstrip(OPENING_MARKS))[:2]


def pronoun_start_in(sentence: str, lang: str) -> bool:
    """`sentence` opens with a word that leans back on the sentence before it in `lang`
    ("Er", "Cette décision", "Dicho"), not a time ("Diese Woche", "Cette année") or the
    expletive it ("Il y a", "Il faut"); False for a language without lists."""
    first = _opening(sentence)
    if not first or first[0] not in words.PRONOUN_STARTS.get(lang, frozenset()):
        return False
    second = first[1].lower() if len(first) > 1 else ""
    return second not in words.NOT_BACK_REFERENCE.get(lang, frozenset())


def personal_start_in(sentence: str, lang: str) -> bool:
    """`sentence` opens with a personal pronoun of `lang` ("Er", "Elle", "Él")."""
    first = _opening(sentence)
    return bool(first) and first[0] in words.PERSONAL_STARTS.get(lang, frozenset())


def is_noise_in(sentence: str, lang: str) -> bool:
    """Page furniture in `lang` at the start ("Lesen Sie auch", "Lire aussi")."""
    low = sentence.lower()
    return low.startswith(words.NOISE_STARTS.get(lang, ()))


def is_promo_in(sentence: str, lang: str) -> bool:
    """A promotion in `lang` ("Abonnez-vous", "Suscríbete") anywhere in the sentence."""
    low = sentence.lower()
    return any(p in low for p in words.PROMO_PHRASES.get(lang, ()))


def negated_in(sentence: str, lang: str) -> bool | None:
    """Does `sentence` say in `lang`'s words that something is not so ("nicht", "ne ...
    pas", "nunca")? None for a language without a list."""
    negations = words.NEGATIONS.get(lang)
    if negations is None:
        return None
    return any(t in negations for t in _tokens(sentence))


def number_words_in(text: str, lang: str) -> set[str]:
    """The numbers `text` writes as words of `lang` ("drei" -> "3"), as digit strings."""
    table = words.NUMBER_WORDS.get(lang, {})
    return {str(table[t]) for t in _tokens(text) if t in table}
