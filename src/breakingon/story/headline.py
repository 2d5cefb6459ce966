"""A story's final headline and dek, decided once by the story stage.

Readers see the same headline and dek on every page, in the JSON API and in the feeds,
because the web layer shows what is stored here and repairs nothing.

The headline is chosen among the member articles' titles (`headline_problem` rejects
captions, photo credits, datelines and bylines, page chrome, labels, quotes standing
as headlines, fragments, clickbait and loaded words); a title cut with "…" is first made
whole from its own article's text. When no title passes, it is composed from a lead
sentence as a complete clause (`compose_headline`): never cut mid-clause, never ending
in "…". The dek never repeats the sentence the headline already shows. Pure: strings in,
strings out.

Languages (`language=`, ISO 639-1): the rules below are English, for an English title
and one whose language is unknown; a title in de fr es pt it nl is read with that
language's rules and the language-neutral ones, a title in any other language with the
neutral ones only (`headline_i18n`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from breakingon.records import BriefSentence
from breakingon.story import headline_i18n
from breakingon.tag.lang import signal_language
from breakingon.text import (
    CUT_MARKS,
    is_first_person,
    is_instruction,
    normalize_space,
    split_sentences,
    starts_with_pronoun,
    strip_dateline,
    tidy_space,
    whole_title,
)

__all__ = [
    "brief_dek",
    "choose_headline",
    "clean_title",
    "compose_headline",
    "dek_after",
    "first_sentence",
    "headline_problem",
    "is_headline_style",
    "is_neutral_headline",
    "story_headline",
]

MAX_HEADLINE_WORDS = 20

# --- what a headline must not be ----------------------------------------------------

_LOADED = frozenset(
    """slams slammed blasts blasted destroys destroyed rips ripped savages shreds torches
    shocking shocked stunning stuns stunned outrage outrageous outraged epic horrific
    disgusting insane bombshell meltdown unbelievable amazing incredible chilling terrifying
    heartbreaking furious fury must-see jaw-dropping mind-blowing brutal humiliates humiliated
    hilarious hilariously awesome badass evil disaster disastrous catastrophic slap slaps
    explodes eviscerates obliterates crushes crushed wow omg lol""".split()
)
_CLICKBAIT = re.compile(
    r"(?i)(?:you\s+won'?t\s+believe|what\s+happens\s+next|here'?s\s+(?:why|what|how)|"
    r"this\s+is\s+(?:why|what|how)|^(?:watch|see|look)\b|you\s+need\s+to|"
    r"what\s+you\s+need\s+to\s+know|will\s+make\s+you|the\s+reason\s+why|"
    r"^\d+\s+(?:things|ways|reasons|times|photos)|\bthis\s+\w+\s+(?:is|will)\b|"
    r"trending\s+news|^(?:exclusive|breaking|update|updated|live|opinion)\b|[|:]\s*$)"
)
# "(Photo: Matt Sayles, Invision/AP)", "... / AP Photo", "Getty Images", an unclosed
# bracket at the end ("... in Washington. (P"), a caption's date ("Thursday, Jan. 17,
# 2019") and a caption's grammar ("X speaks during a news conference").
_CAPTION = re.compile(
    r"(?i)\((?:photo|file\s+photo|ap\s+photo|credit|image|pictured)\b|\bphoto\s*(?:by|:)|"
    r"\bgetty\s+images\b|/\s*(?:ap|afp|reuters|getty|invision)\b|\bap\s+photo\b|"
    r"\([^)]{0,3}$|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day,\s+\w{3,9}\.?\s+\d{1,2},"
    r"\s+\d{4}|\b(?:speaks|talks|gestures|poses|looks\s+on|listens|waves|arrives|"
    r"walks|stands|sits|smiles)\s+(?:during|at|to|as|after|before|with|outside|in\s+front)\b"
    # "In this May 3, 2015 photo, ...", "A photo from the 1998 excavation", "..., smiles"
    r"|^in\s+this\s+(?:[\w,.]+\s+){0,5}(?:photo|image|picture)\b|"
    r"^an?\s+(?:file\s+)?(?:photo|picture|image)\s+(?:from|of|shows|taken)\b|"
    r"\b(?:smiles|gestures|waves|poses|looks\s+on)\s*\.?$|"
    # a caption's someone doing something in the picture: "A child looks at the tributes"
    r"^an?\s+(?:child|man|woman|boy|girl|person|worker|resident|supporter|protester|"
    r"mourner|firefighter|police\s+officer|soldier|fan|visitor)\s+(?:looks|stands|walks|"
    r"sits|holds|carries|waits|reacts|prays|lays|places|watches)\b|"
    # where someone stands in the picture, a credit after the agency, "X is seen"
    r"\((?:[\w ,]{0,20}\s)?(?:left|right|center|centre|L|R|C)\)|"
    r"\b(?:reuters|afp|epa|ap|getty)\s*/\s*[A-Z]|\b(?:is|are)\s+(?:seen|pictured|shown)\b|"
    # a photographer's credit in brackets, "(Katherine Frey/The Washington Post)", and a
    # caption's closing date, "... in Paris, April 22, 2015"
    r"\([A-Z][\w.'’ -]{1,40}/\s*(?:The\s+)?[A-Z][^()]{1,40}\)?\.?$|"
    r",\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},\s+\d{4}\.?$"
)
_CREDIT = re.compile(r"(?i)^(?:photo|image|video|credit|copyright|©)\b|\bcourtesy\s+of\b")
# "Associated Press Tue Feb 19, 2013 7:44 PM", "By Jane Doe, Reuters", "Posted 3:45 PM".
_DATELINE = re.compile(
    r"(?i)^(?:by\s+[A-Z]|(?:the\s+)?associated\s+press\b|reuters\b|afp\b|posted\b|"
    r"published\b|updated\b)|\b\d{1,2}:\d\d\s*(?:[ap]\.?m\.?|gmt|utc|et|edt|est)\b"
)
_CHROME = re.compile(
    r"(?i)\bskip\s+in\s+skip\b|\b(?:embed|share|close)\s+x\b|\bcontinue\s+reading\b|"
    r"\badvertisement\b|\bread\s+more\b|\bsign\s+up\b|\bsubscribe\b|\bclick\s+here\b|"
    r"\bcookies?\b|\bnewsletter\b|\blog\s*in\b|\bjavascript\b|^close\b|"
    r"^(?:photo|video|watch|image|gallery|listen)\b\s+\S|\bmain\s+story\b|\|"
    # a site's tagline or an archive's notice standing as the page title
    r"|\bthe\s+free\s+encyclopedia\b|\bcrawls?\s+(?:are|is)\s+part\s+of\b"
    # a login form, and template markup a page served unrendered ("{* loginWidget *}")
    r"|^sign\s+in\b|\bsign\s+in\s+(?:using|with|to)\b|\{[*{%]|[*}%]\}"
    # sharing buttons and a page's box labels run into the title
    r"|\bclick\s+to\s+(?:email|share|print|tweet)\b|\bopens\s+in\s+(?:a\s+)?new\s+window\b"
    r"|^(?:story\s+highlights|editor'?s\s+picks?|buy\s+photo|image\s+copyright)\b"
)
# Labels standing where the headline should be: "Summary:", "For immediate release:",
# "The seed for X was:", "Editor's note:".
_LABEL = re.compile(
    r"(?i)^(?:summary|for\s+immediate\s+release|update[ds]?|editor'?s\s+note|note|"
    r"the\s+seed\s+for\s+.{1,60}?\s+was|breaking(?:\s+news)?|exclusive|opinion|analysis|"
    r"review|live(?:\s+updates)?|watch|video|photos?|podcast|transcript|abstract|"
    r"press\s+release|statement|warning)\s*[:\-–—]"
)
# A headline that opens by leaning on what came before: "But there are other problems".
_LEANING = re.compile(r"(?i)^(?:but|and|or|so|yet|also|still|then|however|meanwhile|instead)\b")
# A quote standing as the headline: '"We will not back down"', 'Trump: "I will..."'.
_QUOTE_HEAD = re.compile(r"^(?:[\w .'’]{1,40}:\s*)?[\"“‘']")
# The plural present of headlines ("Angels withdraw offer", "Rebels seize town").
_PLURAL_PRESENT = "|".join(
    """
    accuse acquit admit agree announce apologise apologize approve arrest attack back
    ban beat begin blame block bomb boost break burn buy call cancel celebrate charge
    claim close collapse condemn confirm consider convict crash criticise criticize cut
    debate defeat delay demand deny detain die discuss drop ease end erupt evacuate
    expand expect extend eye face fail fall fear fight find fire flee flood free get
    give grow help hire hit hold honor honour hope hunt invest investigate jail join
    jump keep kill launch lead leave lift lose make mark meet mourn move mull name need
    offer open order pass pay plan plead plunge praise probe propose protest pull push
    quit raise reach reduce reject release report rescue return reveal rise say search
    see seek seize sell sentence set shoot show shut sign slam slump soar spend stab
    start stop storm strike sue surge take tighten top trail try unveil urge vote vow
    want warn weigh welcome win withdraw
    """.split()
)
# A finite verb a clause can stand on: forms of be/have/do, modals, past tense, the
# present third person, and common irregular past forms.
_FINITE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|do|does|did|will|would|can|could|shall|should|"
    r"may|might|must|won't|can't|isn't|aren't|wasn't|weren't|hasn't|haven't|didn't|"
    r"doesn't|got|went|made|took|gave|came|found|told|won|hit|set|put|ran|left|kept|held|"
    r"met|sought|saw|fell|rose|led|lost|paid|sold|bought|brought|thought|spoke|broke|"
    r"began|chose|drew|drove|flew|grew|knew|shot|stole|struck|swore|threw|wrote|cut|"
    r"quit|shut|hurt|let|read|spent|sent|built|felt|heard|meant|became|[a-z]{2,}ed|"
    r"[a-z]{2,}[^s\W]s|[a-z]+ies|[a-z]+(?:ch|sh|ss|x|z)es|goes|says|said|say"
    r"|" + _PLURAL_PRESENT + r")\b",
    re.IGNORECASE,
)
# Words that leave a clause open when they end it ("... is absolutely", "... of the").
_OPEN_END = frozenset(
    """a an the of to in on at for from by with and or but nor as than that which who
    whom whose is are was were be been being has have had will would can could should
    may might must shall very absolutely really just also not no his her their its our
    my your this these those said says about into over after before while when where
    because if so such more most less some any every each both either neither against
    toward towards without through across among between under upon within amid despite
    via like including""".split()
)
_WORD = re.compile(r"[\w'’-]+")
_SENTENCE_END = re.compile(r"[.!?][\"”’)]*(?=\s|$)")


def is_neutral_headline(title: str) -> bool:
    """True when a headline is plain: 4-20 words (4 with letters), no shouting, no loaded
    or bait words.

    Rejects all-caps, question and exclamation headlines, clickbait patterns and words
    that judge instead of inform ("slams", "shocking", "outrage", ...).
    """
    words = title.split()
    if not 4 <= len(words) <= MAX_HEADLINE_WORDS:
        return False
    if sum(any(c.isalpha() for c in w) for w in words) < 4:
        return False  # rules, dots or numbers, not words
    if title.rstrip().endswith(("?", "!")) or "!" in title:
        return False
    letters = [c for c in title if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return False
    if any(w.isupper() and len(w) > 4 and w.isalpha() for w in words):
        return False  # one shouted word ("SHOCKING video")
    if _CLICKBAIT.search(title):
        return False
    lowered = {w.strip(".,:;\"'“”‘’()").lower() for w in words}
    return not (lowered & _LOADED)


_INITIAL_END = re.compile(r"(?:^|\s)[A-Z]\.$")
# a name's age opened and left: "In a recorded conversation, Christos Vasiliades, 38"
_OPEN_AGE = re.compile(r"[A-Z][\w.'’-]+,\s+\d{1,3}$")


def is_fragment(text: str) -> bool:
    """True when `text` cannot stand as a clause: cut with "…", no finite verb, it ends
    on a word that leaves the clause open ("The San Diego Zoo Safari Park is absolutely")
    or on a name's initial ("... brought down Nixon W.": a title run into "W. Mark Felt")."""
    stripped = text.strip().rstrip("\"'”’)")
    if stripped.endswith(CUT_MARKS) or _INITIAL_END.search(stripped) or _OPEN_AGE.search(stripped):
        return True
    words = _WORD.findall(stripped)
    if len(words) < 3:
        return True
    if words[-1].lower() in _OPEN_END or stripped.endswith((",", ";", ":", "-", "–", "—")):
        return True
    # a verb-like word that is not the first word (a capitalised first "Gets" or a
    # plural noun in a label should not carry the clause alone)
    return not any(m.start() > 0 for m in _FINITE.finditer(stripped))


def headline_problem(title: str, language: str = "") -> str | None:
    """Why `title` cannot head a story (None when it can): "instruction" (to a language
    model, planted in the page), "caption", "credit",
    "dateline", "chrome", "label", "quote", "first-person", "pronoun" (an opening
    pronoun with no antecedent), "fragment" or "not-neutral" (clickbait, shouting,
    loaded words, a question, too short or too long). `language`: the title's (ISO
    639-1; "": English); another language's title is read by its own rules or the
    neutral ones (`headline_i18n.problem`)."""
    if signal_language(language) != "en":
        return headline_i18n.problem(title, language.strip().lower()[:2])
    text = normalize_space(title)
    if not text:
        return "empty"
    if is_instruction(text):
        return "instruction"  # written for a language model, not for readers
    for kind, rule in (
        ("chrome", _CHROME),
        ("caption", _CAPTION),
        ("credit", _CREDIT),
        ("dateline", _DATELINE),
        ("label", _LABEL),
        ("quote", _QUOTE_HEAD),
    ):
        if rule.search(text):
            return kind
    if is_first_person(text):
        return "first-person"
    if starts_with_pronoun(text) or _LEANING.match(text):
        return "pronoun"  # "She brought down the house": who? "But there are ...": what?
    if is_fragment(text):
        return "fragment"
    if not is_neutral_headline(text):
        return "not-neutral"
    return None


# --- choosing and composing ----------------------------------------------------------

_SITE_SUFFIX = re.compile(r"\s+(?:[-|–—:]\s+([^-|–—:]{2,40}))$")
_NAME_WORD = re.compile(r"^(?:[A-Z0-9][\w.'’&]*|the|of|and|&|de|la|le|el|der|die|das)$")


def _site_name(suffix: str) -> bool:
    """Whether a title's tail reads like an outlet's name ("CNN", "The Washington Post",
    "BBC News"), not a clause of the headline ("Russia conspiracy in new lawsuit.")."""
    words = suffix.split()
    return 0 < len(words) <= 5 and not suffix.endswith(".") and all(map(_NAME_WORD.match, words))


# Sentences of these kinds give no headline, whole or cut.
_NEVER_CUT = ("caption", "credit", "dateline", "chrome", "label")
_ABBREVIATION_END = re.compile(
    r"(?:\b[A-Za-z]\.){2,}$|\b[A-Z][a-z]{0,2}\.$|"
    r"\b(?i:etc|vs|approx|inc|ltd|corp|jr|sr|calif|wash|mass|conn|tenn|ariz|colo)\.$"
)


def _without_full_stop(title: str) -> str:
    """A one-sentence title without its closing full stop (a headline has none); kept
    when the stop ends an abbreviation ("... the U.S.") or more sentences follow."""
    if not title.endswith(".") or _ABBREVIATION_END.search(title):
        return title
    if _SENTENCE_END.search(title[:-1]):
        return title
    return title[:-1]


def is_headline_style(title: str) -> bool:
    """Whether a title is written as a headline, not as a sentence closed by a full stop
    (a lead sentence or a caption standing where the headline should be)."""
    return not title.rstrip("\"'”’) ").endswith(".")


def clean_title(title: str) -> str:
    """A title without its dateline ("NEW YORK (AP) — "), its site suffix (" - CNN",
    " | Fox News") and edge punctuation."""
    out = strip_dateline(normalize_space(title))
    for _ in range(2):
        m = _SITE_SUFFIX.search(out)
        if m and _site_name(m.group(1)) and len(out[: m.start()].split()) >= 4:
            out = out[: m.start()]
    return out.strip(" -|:")


# Where a long sentence may be cut and leave a whole main clause before it.
_CLAUSE_CUT = re.compile(
    r";\s|\s[—–]\s|,\s(?:and|but|while|as|after|which|who|where|when|although)\s|"
    r"\s(?:after|as|while|because|but|although|amid|despite|before|when|since|"
    r"following|even\s+as)\s"
)


_NEUTRAL_CUT = re.compile(r";\s|\s[—–]\s")


# A name and an apposition the cut left open: "Yumenosuke, a male mixed-blooded dog
# trained" (the clause's verb came after the apposition's closing comma).
_OPEN_APPOSITION = re.compile(
    r"^[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3},\s+(?:a|an|the|who|which|whose|\d[\w-]*)\s[^,]*$"
)

# A time the cut left without its event: "... bought a shotgun the day [before ...]".
_OPEN_TIME = re.compile(
    r"(?i)\bthe\s+(?:day|night|week|month|year|morning|evening|afternoon|moment|time)$"
)


def _headline_form(text: str) -> str:
    text = text.strip().rstrip(".").strip(' ,;:"“”')
    return text[:1].upper() + text[1:]


def compose_headline(sentence: str, language: str = "") -> str:
    """A headline from a lead sentence: the sentence itself when it is short enough,
    else its first main clause (cut only where a clause ends: ";", " — ", ", and",
    " after ", " as ", ...; in another language than English only at ";" and a dash);
    "" when neither makes a headline. Never cut mid-clause, never ending in "…"."""
    text = strip_dateline(normalize_space(sentence))  # "NEW YORK (AP) — " heads nothing
    if not text or text.endswith(CUT_MARKS):
        return ""
    whole = _headline_form(text)
    problem = headline_problem(whole, language)
    if problem is None:
        return whole
    if problem in _NEVER_CUT:
        return ""  # a caption's first clause is still a caption ("Soldiers patrol ...")
    cuts = _CLAUSE_CUT if signal_language(language) == "en" else _NEUTRAL_CUT
    for m in cuts.finditer(text):
        head = _headline_form(text[: m.start()])
        if (
            6 <= len(head.split()) <= MAX_HEADLINE_WORDS
            and headline_problem(head, language) is None
            and not _OPEN_APPOSITION.match(head)
            and not _OPEN_TIME.search(head)
        ):
            return head
    return ""


def choose_headline(
    titles: Sequence[str],
    title_scores: Sequence[float],
    dek_sentence: str,
    languages: Sequence[str] | None = None,
    dek_language: str = "",
) -> str:
    """The best-scored outlet headline that passes `headline_problem`, else one composed
    from the dek sentence ("" when neither does).

    `title_scores` ranks the titles (e.g. closeness to the story centroid); `languages`:
    each title's (none: English), `dek_language` the dek sentence's.
    """
    best = ""
    best_score = float("-inf")
    langs = list(languages) if languages is not None else [""] * len(titles)
    for title, score, lang in zip(titles, title_scores, langs, strict=True):
        clean = clean_title(title)
        if headline_problem(clean, lang) is None and score > best_score:
            best, best_score = clean, score
    if best:
        return best
    return compose_headline(dek_sentence, dek_language) if dek_sentence else ""


def lead_sentences(text: str, limit: int = 4) -> list[str]:
    """The first clean sentences of an article (no dateline, caption or byline)."""
    return [s.text for s in split_sentences(text[:4000])[:limit]]


def story_headline(
    titles: Sequence[tuple[str, str]],
    leads: Iterable[str],
    languages: Sequence[str] | None = None,
    lead_language: str = "",
) -> str:
    """The headline of a story: the first of `titles` ((title, its article's text), best
    first) that passes `headline_problem` once cut titles are made whole from their own
    text; else the first main clause of a title that is only too long; else the first of
    `leads` (lead sentences, best first) that composes a headline; else the shortest
    whole lead sentence; "" when there is nothing. `languages`: each title's (none:
    English); `lead_language`: the leads' (the story's dominant language)."""
    wholes = [clean_title(whole_title(clean_title(title), text[:2000])) for title, text in titles]
    langs = list(languages) if languages is not None else [""] * len(wholes)
    judged = [
        (clean, lang, headline_problem(clean, lang))
        for clean, lang in zip(wholes, langs, strict=True)
    ]
    passing = [clean for clean, _, problem in judged if clean and problem is None]
    if passing:
        # a headline proper before a sentence standing as the title ("... , police said.")
        return next((t for t in passing if is_headline_style(t)), _without_full_stop(passing[0]))
    # a title that is only too long (a lead sentence standing as the title) gives its
    # first main clause before any lead does: it is the outlet's own framing
    for clean, lang, problem in judged:
        if clean and problem == "not-neutral":
            composed = compose_headline(clean, lang)
            if composed:
                return composed
    fallback = ""
    for sentence in leads:
        composed = compose_headline(sentence, lead_language)
        if composed:
            return composed
        form = _headline_form(normalize_space(sentence))
        if _only_too_long(form, lead_language) and (not fallback or len(form) < len(fallback)):
            fallback = form
    if fallback:
        return fallback
    # Nothing reads as a headline (a statement, a login or crawl page): the first whole
    # title that is at least no caption, credit, chrome, label or dateline, as it is.
    for clean, _, problem in judged:
        if clean and not clean.endswith(CUT_MARKS) and problem in _SOFT:
            return clean
    return ""


# Faults a title may keep when nothing better exists. Not first person: a page that
# is all "I adore ..." is a comment or a diary, no report.
_SOFT = ("quote", "pronoun", "not-neutral")


def _only_too_long(text: str, language: str = "") -> bool:
    """Whether a whole sentence's only fault as a headline is its length."""
    words = text.split()
    if len(words) <= MAX_HEADLINE_WORDS or headline_problem(text, language) != "not-neutral":
        return False
    head = " ".join(words[:MAX_HEADLINE_WORDS])
    if signal_language(language) != "en":
        return headline_problem(head, language) in (None, "fragment")
    return is_neutral_headline(head)


# --- the dek ---------------------------------------------------------------------------


def first_sentence(text: str, limit: int = 300) -> str:
    """The first whole sentence of `text` (40 to `limit` characters), else ""."""
    for s in split_sentences(text[:4000]):
        if 40 <= len(s.text) <= limit:
            return s.text
    return ""


def dek_after(dek: str, headline: str) -> str:
    """The dek without the sentence the headline already shows, whole or as its first
    clause ("" when nothing is left)."""
    text, head = tidy_space(dek), tidy_space(headline).rstrip(".")
    if head and text.casefold().startswith(head.casefold()):
        end = _SENTENCE_END.search(text, len(head))
        return text[end.end() :].strip() if end else ""
    return dek


def brief_dek(sentences: Sequence[BriefSentence], headline: str) -> str:
    """The dek of a story with a brief: the brief's dek sentences but the one the headline
    repeats. The story page shows the brief's dek sentences this text holds."""
    head = tidy_space(headline).rstrip(".").casefold()
    return " ".join(s.text for s in sentences if tidy_space(s.text).rstrip(".").casefold() != head)
