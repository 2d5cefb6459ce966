"""Sentence-level text rules for briefs: splitting, clean-up, quotes, numbers, plans.

Everything here is a pure function over strings. The clean-up only *removes* text
(datelines, bylines, photo captions, "Read more" noise) and never rewrites it, so every
sentence it returns is still a substring of its source once whitespace is normalised:
that is what makes a brief traceable line by line. This module must not touch the
store, the network, the web layer or the embedder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from breakingon.injection import is_instruction
from breakingon.languages import sentences as other

__all__ = [
    "Quote",
    "SourceSentence",
    "find_quote",
    "is_first_person",
    "is_forward_looking",
    "is_instruction",
    "normalize_space",
    "number_facts",
    "number_phrase",
    "number_tokens",
    "proper_names",
    "sentence_problem",
    "split_paragraph",
    "split_sentences",
    "starts_with_pronoun",
    "strip_dateline",
    "tidy_space",
    "whole_title",
]


@dataclass(frozen=True, slots=True)
class SourceSentence:
    """One cleaned sentence of one document, with where it came from."""

    text: str
    doc: int  # index of the document in the input sequence
    position: int  # index of the sentence among the document's kept sentences
    paragraph: int  # index of the paragraph it came from


@dataclass(frozen=True, slots=True)
class Quote:
    """A direct quote with the speaker named in the same sentence."""

    speaker: str
    quote: str


_WS = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace to one space and trim (the traceability normal form)."""
    return _WS.sub(" ", text).strip()


# --- clean-up rules -----------------------------------------------------------------

# "WASHINGTON (AP) — ", "LONDON (Reuters) - ", "(CNN) — ", "Washington (CNN) ",
# "NEW YORK, March 3 (Reuters) - ". Removed from the start of a sentence only.
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Za-z.'\-]*(?:[ ,]+[A-Z][A-Za-z.'\-]*){0,4}"
    r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*)?"
    r"\((?:AP|Reuters|CNN|AFP|UPI|Bloomberg|dpa|The Associated Press|CNN Money|"
    r"KABC|WABC|AP Photo|TheWrap|Variety|Xinhua|ANSA|EFE)\)\s*(?:[-—–:]+\s*)?"
    # any parenthesised outlet tag followed by a dash: "(KOIN) — ", "(WFAA) - "
    r"|^\([A-Z][A-Za-z0-9 .&]{1,24}\)\s*[-—–]+\s*"
    # a press wire's: "SAN FRANCISCO--(BUSINESS WIRE)--"
    r"|^[A-Z][A-Za-z .,'\-]{2,40}?\s*[-—–]{1,2}\s*\((?i:business\s+wire|pr\s+newswire|"
    r"globe\s+newswire|marketwired?|accesswire)\)\s*[-—–]{1,2}\s*"
)
# All-caps place datelines without an agency: "BEIJING — ", "KABUL, Afghanistan — ".
_CAPS_DATELINE = re.compile(
    r"^[A-Z][A-Z .'\-]{2,30}(?:,\s*[A-Z][A-Za-z .]{2,30})?"
    r"(?:\s+[—–-]{1,2}\s+|\s*(?:--|—)\s*(?=[A-Z]))"  # "BEIJING — ", "HIROSHIMA--A"
)
_BYLINE = re.compile(
    r"^(?:By|BY|Written by|Story by)\s+[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,3}"
    r"(?:\s*(?:,|and|&)\s*[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,3})*"
    r"(?:\s*[,|]\s*[A-Z][\w ]{2,40})?\s*(?:\n|$)"
)
# Whole paragraphs or sentences that are page furniture, not reporting.
_NOISE = re.compile(
    r"(?ix)^(?:"
    r"advertisement|ad\b|sponsored|read\s+more|continue\s+reading|click\s+here|"
    r"sign\s+up|subscribe|share\s+(?:this|on)|follow\s+(?:us|me|@)|related\b|see\s+also|"
    r"watch\b|video\b|photo\b|photos\b|image\b|images\b|enlarge\s+this\s+image|"
    r"toggle\s+caption|hide\s+caption|caption\b|file\s*[-—–]|copyright|©|all\s+rights|"
    r"this\s+(?:article|story|post)\s+(?:was|has\s+been|originally|(?:first\s+)?appeared)|"
    r"(?:get|download)\s+(?:our|the)\s+app|comments?\b|email\b|print\b|"
    r"we\s+(?:use|value)\s+cookies|by\s+clicking|log\s*in|loading\b|trending\b|"
    r"more\s*>>|local\s+news|read\s+also|for\s+more\s+(?:on|about|information)|"
    r"(?:head|go)\s+over\s+to|(?:published|updated|posted)\s*[:(]?\s*(?:\w+day|\d)"
    r")"
)
_NOISE_ANYWHERE = re.compile(
    r"(?i)(?:click\s+here|sign\s+up\s+for|subscribe\s+(?:to|now)|getty\s+images|"
    r"/\s*(?:AP|AFP|Reuters|Getty)\b|\(photo\b|\bphoto\s*:|\bphoto\s+by\b|"
    r"file\s+photo|image\s+copyright|\(associated\s+press\)\s*$|"
    r"https?://|www\.|@\w{2,}|\bjavascript\b|cookies?\s+policy|newsletter|"
    r"\(published\s|all\s+rights\s+reserved|\|\s*[A-Z]{2,}\s*$)"
)

_ABBREV = (
    "Mr Mrs Ms Dr Prof Sr Jr St Gen Gov Sen Rep Lt Col Capt Sgt Maj Adm Cmdr Rev Hon Pres "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mt Ft No vs etc Inc Corp Co Ltd Bros "
    "Ave Blvd Rd Dept Univ Gov't approx est"
).split()
_ABBREV_RE = "|".join(sorted(_ABBREV, key=len, reverse=True))
# A sentence ends at . ! ? (optionally followed by a closing quote/bracket) and whitespace,
# then an upper-case letter, digit or opening quote; not after a known abbreviation,
# an initial ("J. Smith") or "U.S."-style acronym followed by a lower-case word.
_BOUNDARY = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])"
    # sentences glued by a lost space ("...from Brussels.The CDC says"): a lower-case word
    # of 3+ letters, a stop, then a capitalised word
    r"|(?<=[a-z]{3}[.!?])(?=[A-Z][a-z])"
)
_ABBREV_END = re.compile(r"\b(?:" + _ABBREV_RE + r")\.$")
_INITIAL_END = re.compile(r"(?:\b[A-Z]\.|\b(?:[A-Z]\.){2,})$")
_ACRONYMS = ("U.S.", "U.K.", "U.N.", "D.C.", "E.U.")
_STARTERS = frozenset(
    "The A An He She It They We I But And In On At This That These Those His Her Their "
    "Its There After When While Officials Police".split()
)
_PARA = re.compile(r"\n\s*\n|\n(?=\s*[\"“A-Z])")


def strip_dateline(sentence: str) -> str:
    """Remove a leading dateline or agency tag ("LONDON (Reuters) - "), keep the rest."""
    out = _DATELINE.sub("", sentence, count=1)
    if out == sentence:
        out = _CAPS_DATELINE.sub("", sentence, count=1)
    return out.strip()


def _is_noise(sentence: str, lang: str = "") -> bool:
    if _NOISE.match(sentence) or _NOISE_ANYWHERE.search(sentence):
        return True
    if other.is_noise_in(sentence, lang):
        return True
    letters = [c for c in sentence if c.isalpha()]
    if not letters:
        return True
    upper = sum(1 for c in letters if c.isupper())
    # Shouted lines ("OF COURSE SHE WOULD HAVE.") and headline fragments.
    return len(letters) > 12 and upper / len(letters) > 0.6


def split_paragraph(paragraph: str, lang: str = "") -> list[str]:
    """The raw sentences of one paragraph, not split after abbreviations ("Feb.", "Mr."),
    initials ("John F. Kennedy") or acronyms ("U.S. funding"); nothing is removed. Text
    in another language than English (`lang`) is split by `languages.sentences`' rules."""
    if not other.is_english(lang):
        return other.split_paragraph_in(paragraph, lang)
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(paragraph):
        head = paragraph[start : m.start()]
        if _ABBREV_END.search(head):
            continue
        if _INITIAL_END.search(head) and len(head) > 2:
            # "U.S. officials" is split only if the next word starts a sentence; an initial
            # followed by a capitalised word is usually a name ("John F. Kennedy").
            nxt = paragraph[m.end() : m.end() + 20].split(" ", 1)[0]
            if not head.endswith(_ACRONYMS) or nxt.strip("\"'“‘(") not in _STARTERS:
                continue
        pieces.append(head)
        start = m.end()
    pieces.append(paragraph[start:])
    return [p.strip() for p in pieces if p.strip()]


_MARK = re.compile(r"''|[\"“”]")


def _quote_marks(sentences: Sequence[str]) -> list[tuple[bool, bool]]:
    """For each sentence of one paragraph: (opens inside a quotation, ends inside one).

    A quotation of several sentences ("We will rebuild. We are strong," he said.) is
    followed across the sentence breaks: curly marks open and close, a straight double
    mark toggles. A paragraph that ends inside a quotation (the newspaper convention for
    a quote running on into the next paragraph) leaves its last sentence open."""
    para = " ".join(sentences)
    # Two apostrophes close a quotation in some copy ('"We will," he said.' typed as
    # '"We will, \'\' he said.'): a closing mark, not two stray ones.
    balanced = para.count('"') % 2 == 0 and para.count("“") == para.count("”")
    balanced = balanced or ((para.count('"') + para.count("''")) % 2 == 0 and "“" not in para)
    if not (balanced or para.startswith(("“", '"'))):
        return [(False, False)] * len(sentences)  # stray marks (inches, a cut quote)
    marks: list[tuple[bool, bool]] = []
    inside = False
    for sentence in sentences:
        start = inside
        for m in _MARK.finditer(sentence):
            if m.group() == "“":
                inside = True
            elif m.group() in ("”", "''"):
                inside = False
            elif m.group() == '"':
                inside = not inside
        marks.append((start, inside))
    return marks


def _requote(sentence: str, opens_inside: bool, ends_inside: bool, curly: bool) -> str:
    """`sentence` with the quotation marks that the sentence break took from it: an
    opening mark when it starts inside a quotation, a closing one when it ends inside
    one, so that a quoted sentence reads (and counts) as quoted speech."""
    opening, closing = ("“", "”") if curly else ('"', '"')
    if opens_inside and not sentence.startswith(("“", '"')):
        sentence = opening + sentence
    if ends_inside and not sentence.endswith(("”", '"', "''")):
        sentence += closing
    return sentence


_LOOSE_CLOSE = re.compile(r'([,.!?])\s+"\s+(?=[a-z])')
_LOOSE_OPEN = re.compile(r'^(["“])\s+(?=[A-Z0-9])')
_LOOSE_END = re.compile(r'([,.!?])\s+(["”])$')


def split_sentences(
    text: str, doc: int = 0, *, min_words: int = 5, lang: str = ""
) -> list[SourceSentence]:
    """Split a document into cleaned sentences, dropping page furniture.

    Paragraphs that are captions, bylines or navigation are dropped whole; sentences
    lose a leading dateline. Sentences shorter than `min_words` words are dropped. A
    sentence of a quotation that runs over several sentences gets back the quotation
    marks the break took (`_requote`): the words are the source's, verbatim. Text in
    another language (`lang`, ISO 639-1) is cut into paragraphs and sentences by
    `languages.sentences`' rules, which know every script's capitals and quotation marks.
    """
    english = other.is_english(lang)
    opening = "\"'“‘(" if english else other.OPENING_MARKS
    out: list[SourceSentence] = []
    for p_index, raw_para in enumerate(_PARA.split(text) if english else other.paragraphs_in(text)):
        para = normalize_space(raw_para)
        if not para:
            continue
        para = _BYLINE.sub("", para).strip()
        if not para or (_is_noise(para[:80], lang) and len(para.split()) < 40):
            continue
        raws = split_paragraph(para, lang)
        curly = "“" in para
        for raw, (opens, ends) in zip(raws, _quote_marks(raws), strict=True):
            sent = strip_dateline(_requote(raw, opens, ends, curly))
            sent = sent if english else other.strip_dateline_in(sent)
            # a mark set loose from its words: '" That's', 'party, " police said', 'law. "'
            sent = _LOOSE_OPEN.sub(r"\1", sent)
            if sent.count('"') % 2 == 0:
                sent = _LOOSE_END.sub(r"\1\2", _LOOSE_CLOSE.sub(r'\1" ', sent))
            if other.word_count(sent, lang) < min_words or _is_noise(sent, lang):
                continue
            if not sent[:1].isalnum() and sent[:1] not in opening:
                continue
            # A sentence that does not end like one is a fragment (a caption, a cut teaser).
            if english:
                whole = re.search(r"[.!?][\"'”’)]*$", sent) is not None
            else:
                whole = other.ends_like_a_sentence(sent)
            if not whole or sent.rstrip('"”’ ').endswith(("...", "…")):
                continue
            out.append(SourceSentence(text=sent, doc=doc, position=len(out), paragraph=p_index))
    return out


# --- quotes -------------------------------------------------------------------------

_TITLE = r"(?:(?:Sen|Rep|Gov|Dr|Mr|Mrs|Ms|Gen|Prof|Pres|Lt|Col|Capt|Sgt|Rev)\.\s+)?"
_NAME = _TITLE + r"(?:[A-Z][\w'’\-]+|[A-Z]\.)(?:\s+(?:[A-Z][\w'’\-]+|[A-Z]\.|de|van|von|al|bin))*"
_SAY = r"(?:said|says|told|added|wrote|stated|explained|declared|noted|tweeted|insisted)"
_PRONOUNS = {"He", "She", "They", "It", "We", "I", "You", "This", "That", "The"}
_QUOTE_AFTER = re.compile(
    r"[\"“](?P<quote>[^\"“”]{12,})[\"”][,.]?\s*(?:" + _SAY + r"\s+(?P<s1>" + _NAME + r")"
    r"|(?P<s2>" + _NAME + r")\s+" + _SAY + r")"
)
_QUOTE_BEFORE = re.compile(
    r"(?P<s>" + _NAME + r")(?:,[^,\"“]{3,80},)?\s+" + _SAY + r"(?:\s+[\w ]{0,40}?)?[:,]?\s*"
    r"[\"“](?P<quote>[^\"“”]{12,})[\"”]"
)


def find_quote(sentence: str) -> Quote | None:
    """A direct quote with a named speaker in `sentence`, or None.

    Recognises `"...," said X`, `"...," X said` and `X said: "..."`. Pronoun speakers
    ("he said") do not count: a reader must see who spoke.
    """
    for m in _QUOTE_AFTER.finditer(sentence):
        speaker = m.group("s1") or m.group("s2") or ""
        if speaker and speaker.split()[0] not in _PRONOUNS:
            return Quote(speaker=speaker, quote=m.group("quote").strip(" ,"))
    for m in _QUOTE_BEFORE.finditer(sentence):
        speaker = m.group("s")
        if speaker.split()[0] not in _PRONOUNS:
            return Quote(speaker=speaker, quote=m.group("quote").strip(" ,"))
    return None


# --- plans and scheduled events ------------------------------------------------------

_FUTURE = re.compile(
    r"(?i)\b(?:will\s+(?!not\s+say)\w+|plans?\s+to|planning\s+to|is\s+expected\s+to|"
    r"are\s+expected\s+to|(?:is|are|was)\s+scheduled|scheduled\s+(?:to|for)|"
    r"next\s+(?:week|month|year|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"is\s+set\s+to|are\s+set\s+to|(?:is|are)\s+due\s+to|intends?\s+to|"
    r"later\s+this\s+(?:week|month|year)|upcoming|in\s+the\s+coming\s+(?:days|weeks|months))\b"
)


def is_forward_looking(sentence: str) -> bool:
    """True when a sentence states a plan or a scheduled event (not a quote about one)."""
    return bool(_FUTURE.search(sentence))


# --- numbers and names (for multi-source agreement and contradictions) --------------

_ONE_TO_TWELVE = "one two three four five six seven eight nine ten eleven twelve"
_NUMBER_WORDS = {w: n for n, w in enumerate(_ONE_TO_TWELVE.split(), start=1)}
_NUMBER_WORDS.update(dozen=12, twenty=20, hundred=100)
_NUM = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<scale>\s*(?:million|billion|trillion|thousand|percent|per\s+cent|%)|"
    r"(?:m|mn|bn|b|k|tn)\b)?"
    r"(?P<unit>(?:\s+(?:[a-z][\w\-]*)){1,3})?"
)
# Spellings of one scale: "10 %" = "10 percent" = "10 per cent"; "$5m" = "$5 million".
_SCALES = {
    "%": ("percent", 1.0),
    "percent": ("percent", 1.0),
    "per cent": ("percent", 1.0),
    "thousand": ("", 1e3),
    "k": ("", 1e3),
    "million": ("", 1e6),
    "m": ("", 1e6),
    "mn": ("", 1e6),
    "billion": ("", 1e9),
    "bn": ("", 1e9),
    "b": ("", 1e9),
    "trillion": ("", 1e12),
    "tn": ("", 1e12),
}


def _canonical_number(num: str, scale: str) -> str:
    """One spelling per quantity: thousands separators dropped, scale words multiplied
    out ("5 million" = "5m" = "5,000,000"), percent spellings one word."""
    word, factor = _SCALES.get(" ".join(scale.lower().split()), ("", 1.0))
    value = float(num.replace(",", "")) * factor
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return f"{text} {word}" if word else text


_UNIT_STOP = frozenset(
    "and or of the a an in on at to for from by with "
    "were was are is had have has more than least about who that".split()
)
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")


_CLOCK_AFTER = re.compile(r"(?::\d\d)|\s*(?:[ap]\.\s?m\b|[ap]m\b|o['’]clock\b|h\d\d\b)", re.I)


def _is_clock_time(sentence: str, start: int, end: int) -> bool:
    """A time of day ("4 p.m.", "6:00", "18h30") is when, not how many."""
    if start > 0 and sentence[start - 1] == ":":
        return True
    return _CLOCK_AFTER.match(sentence, end) is not None


def number_facts(sentence: str) -> dict[str, str]:
    """Numbers in a sentence keyed by the word they count: {"people": "12", ...}.

    Years (1800-2099) are skipped. The key is the first content word after the number,
    singular ("12 people were killed" -> "people", "tariffs" -> "tariff"); numbers with
    no such word use "#<n>" so they still take part in agreement checks without being
    compared as a quantity. Values are normalised so that spellings of one quantity are
    equal: "10 %" = "10 percent" = "10 per cent" -> "10 percent", "$5m" = "$5 million" =
    "$5,000,000" -> "5000000".
    """
    facts: dict[str, str] = {}
    for i, m in enumerate(_NUM.finditer(sentence)):
        num = m.group("num").replace(",", "")
        if _YEAR.match(num) or _is_clock_time(sentence, m.start("num"), m.end("num")):
            continue
        value = _canonical_number(num, (m.group("scale") or "").strip())
        unit = ""
        for word in (m.group("unit") or "").split():
            w = word.lower().strip("-")
            if w not in _UNIT_STOP:
                # one key per counted word: "tariff" = "tariffs"
                unit = w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                break
        facts[unit or f"#{i}"] = value
    return facts


def number_phrase(sentence: str, value: str, unit: str) -> str:
    """The verbatim span of `sentence` from the number whose `number_facts` value is
    `value` to its counted word `unit` ("15 people", "10 % tariff"); "" when absent."""
    for m in _NUM.finditer(sentence):
        scale = (m.group("scale") or "").strip()
        if _canonical_number(m.group("num"), scale) != value:
            continue
        start = m.start("num")
        if start > 0 and sentence[start - 1] in "$£€¥":
            start -= 1
        rest = sentence[start:]
        pattern = r"\b" + re.escape(unit) + r"s?\b"
        end = re.search(pattern, rest, flags=re.IGNORECASE)
        if end and end.end() <= 60:
            return rest[: end.end()]
    return ""


_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z][\w'’\-]+(?:\s+[A-Z][a-z][\w'’\-]+)*")


def proper_names(sentence: str) -> set[str]:
    """Capitalised words not at the start of a sentence (a cheap name detector)."""
    names: set[str] = set()
    for m in _PROPER.finditer(sentence):
        for word in m.group(0).split():
            names.add(word.strip("'’").lower())
    return names


def number_tokens(sentence: str) -> set[str]:
    """Every number in a sentence, normalised ("1,087" -> "1087"), word numbers included."""
    out = {m.group("num").replace(",", "") for m in _NUM.finditer(sentence)}
    for word in re.findall(r"[a-z]+", sentence.lower()):
        if word in _NUMBER_WORDS:
            out.add(str(_NUMBER_WORDS[word]))
    return out


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_SENTENCE_END = re.compile(r"[.!?][\"”’)]*(?=\s|$)")
CUT_MARKS = ("…", "...")  # how feeds mark a title they cut
MAX_WHOLE_TITLE = 220  # longer sentences stay cut: a headline, not a paragraph


def tidy_space(text: str) -> str:
    """`normalize_space`, and no space before , . ; : ! or ?."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))


def whole_title(title: str, text: str) -> str:
    """A title cut with "…" made whole from `text` when `text` begins with it (the cut
    sentence, up to MAX_WHOLE_TITLE characters); otherwise the title as is."""
    if not title or not text or not title.endswith(CUT_MARKS):
        return title
    stem = tidy_space(title.removesuffix("...").removesuffix("…")).rstrip(" ,;:")
    body = tidy_space(text)
    if len(stem) < 12 or not body.casefold().startswith(stem.casefold()):
        return title
    # the sentence ends where `split_paragraph` ends it: not after "U.S." or "Mr."
    whole = ""
    for sentence in split_paragraph(body[: MAX_WHOLE_TITLE * 2]):
        whole = f"{whole} {sentence}".strip()
        if len(whole) >= len(stem):
            break
    if len(whole) < len(stem):
        return title
    return whole if len(whole) <= MAX_WHOLE_TITLE else title


# --- what a brief sentence must not be -------------------------------------------------

_QUOTED = re.compile(r"[\"“][^\"“”]*[\"”]")
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|I'd|I’d|I'll|I’ll|me|my|mine|myself|"
                           r"we|we're|we’re|we've|we’ve|we'll|we’ll|us|our|ours|ourselves)\b",
                           re.IGNORECASE)  # fmt: skip
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're|you’re|yours)\b", re.IGNORECASE)
_US = re.compile(r"\bUS\b|\bU\.S\b")
_PRONOUN_START = re.compile(
    r"^[\"“‘']?(?:He|She|It|They|This|These|Those|That|His|Her|Hers|Its|Their|Him|Them|"
    r"Such|Both|Neither|Either|Another|The\s+(?:latter|former|move|decision|plan|"
    r"announcement|statement|incident|report|company|group|man|woman|couple|pair))\b"
)
# Openings that look like a back-reference and are not: a time ("This year ...", "That
# night ...") and the expletive "it" ("It is unclear whether ...", "It was not
# immediately known if ...").
_WHEN = (
    r"(?:year|week|month|weekend|morning|afternoon|evening|night|spring|summer|fall|"
    r"autumn|winter|season|decade|century|Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|January|February|March|April|May|June|July|August|September|"
    r"October|November|December)"
)
_NOT_BACK_REFERENCE = re.compile(
    r"^[\"“‘']?(?:(?:This|That|These|Those)\s+(?:past\s+|coming\s+|same\s+)?" + _WHEN + r"s?\b"
    r"|It(?:'s|’s|\s+is|\s+was|\s+has\s+been|\s+had\s+been|\s+will\s+be|\s+would\s+be|"
    r"\s+remains|\s+remained|\s+seems|\s+seemed|\s+appears|\s+appeared)\s+(?:not\s+)?"
    r"(?:yet\s+|still\s+|immediately\s+|entirely\s+|now\s+)?(?:un)?(?:clear|known|likely|"
    r"possible|certain|expected|estimated|believed|thought|reported|understood|hoped|feared|"
    r"unknown|important|difficult|hard|easy|rare|common|illegal|legal)\s+"
    r"(?:that|whether|if|how|why|when|what|who|where|to)\b)"
)
_OPINION = re.compile(
    r"(?i)\b(?:it\s+looks\s+like|it\s+seems|in\s+my\s+(?:view|opinion)|make\s+no\s+mistake|"
    r"let'?s\s+be\s+(?:honest|clear)|of\s+course|frankly|obviously|needless\s+to\s+say|"
    r"literally\s+instead\s+of|should\s+be\s+ashamed|shame\s+on|(?:is|was)\s+(?:a\s+)?"
    r"(?:disgrace|travesty|joke|farce)|the\s+truth\s+is|the\s+fact\s+is|"
    r"(?:sadly|unfortunately|thankfully|hopefully|ironically|arguably),|"
    r"what\s+a\s+\w+|one\s+can\s+only|(?:silly|ridiculous|absurd|pathetic|idiotic))\b"
)
_COMMENT = re.compile(
    r"(?i)^(?:would\s+(?:highly\s+)?recommend|highly\s+recommend|definitely\s+recommend|"
    r"recommended|loved?\s+(?:it|this|the)|great\s+(?:guide|tour|service|place|product)|"
    r"thanks?\b|thank\s+you|reply\b|report\s+abuse|posted\s+by|rated\b|five\s+stars|"
    r"\d\s*(?:/\s*5|stars?)\b)|\b(?:five|four|\d)\s+stars?\b|\bwould\s+(?:definitely\s+)?"
    r"(?:recommend|go\s+back|come\s+back)\b"
)
_PROMO = re.compile(
    r"(?i)\b(?:subscribe|sign\s+up|newsletter|download\s+(?:our|the)\s+app|follow\s+us|"
    r"click\s+here|read\s+more|watch\s+(?:the|our)\s+(?:full\s+)?video|promo\s+code|"
    r"use\s+(?:the\s+)?code|limited[-\s]time\s+offer|buy\s+now|get\s+(?:your\s+)?tickets|"
    r"available\s+now\s+(?:on|at)|free\s+trial|shop\s+now|order\s+now|sponsored|"
    r"listen\s+(?:to|on)\s+(?:the|our)|tune\s+in|learn\s+more\s+at|visit\s+(?:our|the)\s+"
    r"website|call\s+\d|for\s+tickets|on\s+sale\s+now)\b"
)
_CAPTION_TEXT = re.compile(
    r"(?i)\((?:photo|file\s+photo|ap\s+photo|credit|image|pictured)\b|\bphoto\s*(?:by|:)|"
    r"/\s*(?:ap|afp|reuters|getty|invision)\b|\bap\s+photo\b|\b(?:pictured|shown)\s+"
    r"(?:here|above|below|left|right)\b|\(\s*(?:left|right|center|top|bottom)\s*\)|"
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day,\s+\w{3,9}\.?\s+\d{1,2},\s+\d{4}\b|"
    # a caption's date run into its first word: "Sept. 21, 2015 Wisconsin Gov. ... speaks"
    r"^(?-i:[A-Z][a-z]{2,8})\.?\s+\d{1,2},\s+\d{4}\s+(?-i:[A-Z])"
)


def is_first_person(sentence: str, lang: str = "") -> bool:
    """True when `sentence` speaks as I or we (or to "you") outside quotation marks:
    review text, a column, a reader's comment. "US" (the country) does not count. In
    another language, its own words (`languages.words.FIRST_PERSON`; none: False)."""
    if not other.is_english(lang):
        return other.first_person_in(_QUOTED.sub(" ", sentence), lang)
    bare = _US.sub(" ", _QUOTED.sub(" ", sentence))
    return bool(_FIRST_PERSON.search(bare) or _SECOND_PERSON.search(bare))


def starts_with_pronoun(sentence: str, lang: str = "") -> bool:
    """True when `sentence` opens with a pronoun or a back-reference ("He", "They",
    "This", "The move") whose antecedent must come before it; not for a time ("This
    year ...") or the expletive "it" ("It is unclear whether ..."). In another language,
    its own openings (`languages.words.PRONOUN_STARTS`; none: False)."""
    if not other.is_english(lang):
        return other.pronoun_start_in(sentence, lang)
    text = sentence.strip()
    return bool(_PRONOUN_START.match(text)) and not _NOT_BACK_REFERENCE.match(text)


def sentence_problem(sentence: str, lang: str = "") -> str | None:
    """Why a sentence cannot enter a brief as reporting (None when it can):
    "instruction" (to a language model), "first-person", "opinion", "comment" (a
    reader's or reviewer's), "promo", "caption" or "short" (under six words). Text in
    another language (`lang`) is checked with its own words where they are listed; the
    rules written in English words find nothing in it and so do not apply."""
    if is_instruction(sentence):
        return "instruction"
    if other.word_count(sentence, lang) < 6:
        return "short"
    if _COMMENT.search(sentence):
        return "comment"
    if _PROMO.search(sentence) or other.is_promo_in(sentence, lang):
        return "promo"
    if _CAPTION_TEXT.search(sentence):
        return "caption"
    if is_first_person(sentence, lang):
        return "first-person"
    if _OPINION.search(_QUOTED.sub(" ", sentence)):
        return "opinion"
    return None
