"""The extractive brief writer: cited, balanced, multi-source story briefs.

`write_brief(docs, cfg)` turns the articles of one story into a `records.Brief` in the
wire-brief shape (headline, dek, sections, credits). It is a pure stage: sentences come
verbatim from the sources after rule-based clean-up (`brief_text`), are scored for
salience (closeness to the story centroid, support by other outlets, position), picked
with MMR for coverage and non-redundancy under a word budget, and every sentence cites
every outlet that states it. This module must not touch the store, the network or the
web layer; it only calls the embedder (`embed.embed_texts`).

Balance rule (documented in docs/briefs.md): when several outlets state the same fact,
the wording used is taken from the outlet that has supplied the fewest sentences so far
(syndicated copies count as their original), and the sentence cites all of them; in
selection, each sentence already taken from an outlet lowers that outlet's next
sentences by `balance_penalty`, so one prolific outlet cannot fill the brief alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from breakingon.languages.sentences import is_english, personal_start_in, word_count
from breakingon.records import Brief, BriefSection, BriefSentence, Citation
from breakingon.story.headline import choose_headline, clean_title, is_neutral_headline
from breakingon.text import (
    SourceSentence,
    find_quote,
    is_forward_looking,
    is_instruction,
    number_facts,
    number_tokens,
    proper_names,
    sentence_problem,
    split_sentences,
    starts_with_pronoun,
)

__all__ = [
    "BriefSettings",
    "BriefSource",
    "choose_headline",
    "is_neutral_headline",
    "report_sentences",
    "single_source_lead",
    "write_brief",
]

Embedder = Callable[[Sequence[str]], npt.NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class BriefSource:
    """One article of a story, as the brief writer sees it."""

    id: str
    title: str
    text: str
    outlet: str = ""
    url: str = ""
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    duplicate_of: str | None = None  # id of the original when this is a syndicated copy


def _default_embedder(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    from breakingon.cluster.embed import embed_texts

    return embed_texts(texts)


@dataclass(frozen=True, slots=True)
class BriefSettings:
    """Tuning of the extractive writer (defaults chosen on multinews-dev, see docs)."""

    max_words: int = 250  # hard cap on dek + body words
    mmr_lambda: float = 0.6  # weight of salience against redundancy in MMR
    w_centroid: float = 1.0  # closeness to the story centroid (mean of document means)
    w_support: float = 1.0  # best similarity to a sentence of another outlet
    w_position: float = 0.5  # 1 / (1 + position / position_scale)
    position_scale: float = 5.0
    long_sentence_words: int = 40  # sentences longer than this are penalised ...
    long_sentence_penalty: float = 1.0  # ... by this much (they eat the budget)
    off_topic_similarity: float = 0.4  # article mean vs the other articles' mean
    off_topic_penalty: float = 1.0
    redundant_similarity: float = 0.75  # never take two sentences closer than this
    same_fact_similarity: float = 0.80  # cite another outlet's sentence at or above this
    contradiction_similarity: float = 0.70  # same fact, different number: report both
    balance_penalty: float = 0.05  # per sentence already taken from the same outlet
    dek_max_sentences: int = 2
    max_doc_sentences: int = 0  # read only each article's first N kept sentences (0: all)
    embedder: Embedder = field(default=_default_embedder, compare=False)


# --- sentences -----------------------------------------------------------------------


def single_source_lead(title: str, text: str) -> tuple[str, str]:
    """Headline and dek of a story that has no brief (one outlet so far).

    The dek is the text's first clean sentence (no dateline, caption or byline); the
    headline is the outlet's title when it is a plain headline, else one composed from
    that sentence, else the cleaned title as it is. Either may be "" when there is
    nothing usable.
    """
    kept = report_sentences(text)
    dek = next((s.text for s in kept if not starts_with_pronoun(s.text)), "")
    return choose_headline([title], [0.0], dek) or clean_title(title), dek


def report_sentences(text: str, doc: int = 0, lang: str = "") -> list[SourceSentence]:
    """The sentences of `text` that may stand as an outlet's reporting: `split_sentences`'
    clean sentences less first-person text, opinion, reader comments, promos, captions
    and dangling lines (`text.sentence_problem`), by the rules of its language `lang`.
    Used for a one-outlet story's lead."""
    sentences = split_sentences(text, doc, lang=lang)
    return [s for s in sentences if sentence_problem(s.text, lang) is None]


# --- sentence records ---------------------------------------------------------------
# A developing story's brief is written again as reports join it, from mostly the same
# articles: each article's sentences and each sentence's facts are worked out once and
# kept (bounded LRUs; pure functions of the text and its language, so exact).


@lru_cache(maxsize=2048)
def _doc_sentences(text: str, language: str) -> tuple[SourceSentence, ...]:
    return tuple(split_sentences(text, 0, lang=language))


@dataclass(frozen=True, slots=True)
class _Facts:
    numbers: frozenset[str]  # `text.number_tokens`
    names: frozenset[str]  # `text.proper_names`
    eligible: bool  # no `text.sentence_problem`
    words: int  # `languages.sentences.word_count`


@lru_cache(maxsize=50_000)
def _facts(sentence: str, language: str) -> _Facts:
    return _Facts(
        numbers=frozenset(number_tokens(sentence)),
        names=frozenset(proper_names(sentence)),
        eligible=sentence_problem(sentence, language) is None,
        words=word_count(sentence, language),
    )


def doc_sentences(text: str, doc: int, language: str, limit: int = 0) -> list[SourceSentence]:
    """`split_sentences(text, doc, lang=language)` (its first `limit` when > 0), kept."""
    kept = _doc_sentences(text, language)
    kept = kept[:limit] if limit > 0 else kept
    return [SourceSentence(s.text, doc, s.position, s.paragraph) for s in kept]


# --- selection -----------------------------------------------------------------------


@dataclass(slots=True)
class _Pool:
    sents: list[SourceSentence]
    emb: npt.NDArray[np.float32]
    sim: npt.NDArray[np.float32]
    outlet_of_doc: list[str]  # balance key per document (original outlet for copies)
    numbers: list[frozenset[str]]
    names: list[frozenset[str]]
    eligible: list[bool]  # may stand in a brief as reporting (`text.sentence_problem`)
    words: list[int]  # words per sentence (`languages.sentences.word_count`)
    language: str = ""  # of every sentence ("" unknown: English rules)


def _balance_keys(docs: Sequence[BriefSource]) -> list[str]:
    by_id = {d.id: d for d in docs}
    keys: list[str] = []
    for i, d in enumerate(docs):
        root = d
        seen = {d.id}
        while root.duplicate_of and root.duplicate_of in by_id and root.duplicate_of not in seen:
            seen.add(root.duplicate_of)
            root = by_id[root.duplicate_of]
        keys.append(root.outlet or root.id or f"doc{i}")
    return keys


def _same_fact(pool: _Pool, i: int, j: int, threshold: float) -> bool:
    if pool.sim[i, j] < threshold:
        return False
    if pool.numbers[i] != pool.numbers[j]:
        return False
    a, b = pool.names[i], pool.names[j]
    if a and b:
        return len(a & b) / min(len(a), len(b)) >= 0.5
    return not (a or b) or pool.sim[i, j] >= 0.9


def _salience(pool: _Pool, cfg: BriefSettings) -> npt.NDArray[np.float64]:
    docs = np.array([s.doc for s in pool.sents])
    n = len(pool.sents)
    doc_ids = sorted(set(docs.tolist()))
    means = np.stack([pool.emb[docs == d].mean(axis=0) for d in doc_ids])
    means /= np.linalg.norm(means, axis=1, keepdims=True) + 1e-9
    # An article far from all the others (a misclustered page, a paywall or archive
    # notice) is off topic: it does not shape the centroid and its sentences lose points.
    off_topic: set[int] = set()
    if len(doc_ids) >= 2:
        for k, d in enumerate(doc_ids):
            rest = np.delete(means, k, axis=0).mean(axis=0)
            rest /= float(np.linalg.norm(rest)) or 1.0
            if float(means[k] @ rest) < cfg.off_topic_similarity:
                off_topic.add(d)
    keep = [k for k, d in enumerate(doc_ids) if d not in off_topic] or list(range(len(doc_ids)))
    centroid = means[keep].mean(axis=0)
    centroid /= float(np.linalg.norm(centroid)) or 1.0
    cent = pool.emb @ centroid
    support = np.zeros(n)
    keys = np.array([pool.outlet_of_doc[d] for d in docs])
    on_topic = np.array([d not in off_topic for d in docs])
    for i in range(n):
        other = (keys != keys[i]) & on_topic
        if other.any():
            support[i] = float(pool.sim[i, other].max())
    pos = np.array([s.position for s in pool.sents], dtype=np.float64)
    lens = np.array(pool.words)
    score = (
        cfg.w_centroid * cent
        + cfg.w_support * support
        + cfg.w_position / (1.0 + pos / cfg.position_scale)
        - cfg.long_sentence_penalty * (lens > cfg.long_sentence_words)
        - cfg.off_topic_penalty * ~on_topic
    )
    return np.asarray(score, dtype=np.float64)


_PERSONAL = re.compile(r"^[\"“‘']?(?:He|She|His|Her|Him|Hers)\b")


def _anchor(pool: _Pool, i: int, chosen: Collection[int]) -> int | None:
    """The sentence of the brief that sentence i leans back on, if it needs one.

    Returns i itself when i stands on its own. A sentence that opens with a pronoun or a
    back-reference ("It ...", "This ...", "The move ...", `text.starts_with_pronoun`)
    needs the sentence just before it in its article; one that opens with a personal
    pronoun ("He said ...") needs one of the three before it, the nearest chosen one
    (the person it names is the one the article is following). None when that sentence
    is not in `chosen`."""
    s = pool.sents[i]
    if not starts_with_pronoun(s.text, pool.language):
        return i
    english = is_english(pool.language)
    personal = _PERSONAL.match(s.text) if english else personal_start_in(s.text, pool.language)
    reach = 3 if personal else 1
    for j in range(i - 1, -1, -1):
        t = pool.sents[j]
        if t.doc != s.doc or s.position - t.position > reach:
            return None
        if j in chosen:
            return j
    return None


def _select(pool: _Pool, cfg: BriefSettings, budget: int) -> list[int]:
    """MMR under the word budget. Each candidate's redundancy (its closest chosen
    sentence) is kept up to date as sentences are chosen, one matrix row per choice,
    instead of being recomputed over all chosen sentences for every candidate in every
    round: the same choices, in the same order, as the plain loop."""
    score = _salience(pool, cfg)
    lens = pool.words
    n = len(pool.sents)
    outlet_of = [pool.outlet_of_doc[s.doc] for s in pool.sents]
    outlets = sorted(set(outlet_of))
    outlet_index = np.array([outlets.index(o) for o in outlet_of], dtype=np.int64)
    taken = np.zeros(len(outlets), dtype=np.float64)  # sentences taken per outlet
    # each sentence's similarity to its closest chosen one (-inf: none chosen yet)
    redundancy = np.full(n, -np.inf, dtype=np.float64)
    active = np.zeros(n, dtype=bool)  # the candidates
    base = cfg.mmr_lambda * score
    taken_per_outlet: dict[str, int] = {}
    chosen: list[int] = []
    words = 0
    active[[i for i in range(n) if pool.eligible[i]]] = True
    # a sentence that leans back on one not chosen (yet) waits for it
    waiting: dict[int, list[int]] = {}
    while active.any():
        closest = redundancy if chosen else np.zeros(n, dtype=np.float64)
        value = base - (1 - cfg.mmr_lambda) * closest - cfg.balance_penalty * taken[outlet_index]
        value = np.where(active, value, -np.inf)
        best = int(np.argmax(value))  # ties: the lowest index, as before
        active[best] = False
        if chosen and redundancy[best] > cfg.redundant_similarity:
            continue
        if words + lens[best] > budget:
            continue
        # Balance: state the fact in the words of the least-used outlet that states it.
        candidates = set(np.flatnonzero(active).tolist())
        best = _least_used_wording(pool, best, taken_per_outlet, cfg, candidates)
        active[:] = False
        active[list(candidates)] = True
        if _anchor(pool, best, chosen) is None:
            s = pool.sents[best]
            for j in range(max(0, best - 3), best):
                if pool.sents[j].doc == s.doc:
                    waiting.setdefault(j, []).append(best)
            continue
        chosen.append(best)
        words += lens[best]
        # sim[i, best] as the plain loop read it (a BLAS product need not be symmetric)
        redundancy = np.maximum(redundancy, pool.sim[:, best].astype(np.float64))
        outlet = outlet_of[best]
        taken_per_outlet[outlet] = taken_per_outlet.get(outlet, 0) + 1
        taken[outlet_index[best]] += 1
        for k in waiting.pop(best, []):
            if k not in chosen:
                active[k] = True
    return chosen


def _reading_order(pool: _Pool, chosen: Sequence[int]) -> tuple[list[int], dict[int, int]]:
    """The chosen sentences in reading order, and which follows which.

    By relative place in the source (a lead before a kicker), then source; a sentence
    that leans back on one of its article ("He said ...", `_anchor`) comes right after
    it (returned as follower -> anchor)."""
    sents = pool.sents
    doc_len: dict[int, int] = {}
    for s in sents:
        doc_len[s.doc] = doc_len.get(s.doc, 0) + 1
    order = sorted(chosen, key=lambda i: (sents[i].position / doc_len[sents[i].doc], sents[i].doc))
    taken = set(chosen)
    follows: dict[int, int] = {}
    for i in sorted(chosen):
        j = _anchor(pool, i, taken)
        if j is not None and j != i:
            follows[i] = j
    for i in sorted(follows):  # anchors first: chains stay in order
        order.remove(i)
        order.insert(order.index(follows[i]) + 1, i)
    return order, follows


def _least_used_wording(
    pool: _Pool, i: int, taken: dict[str, int], cfg: BriefSettings, candidates: set[int]
) -> int:
    lens_i = pool.words[i]
    best = i
    best_key = (taken.get(pool.outlet_of_doc[pool.sents[i].doc], 0), 0)
    for j in list(candidates):
        if pool.outlet_of_doc[pool.sents[j].doc] == pool.outlet_of_doc[pool.sents[i].doc]:
            continue
        if pool.words[j] > lens_i + 5:
            continue  # do not trade a sentence for a much longer one
        if not _same_fact(pool, i, j, cfg.same_fact_similarity):
            continue
        key = (taken.get(pool.outlet_of_doc[pool.sents[j].doc], 0), 1)
        if key < best_key:
            best, best_key = j, key
    if best != i:
        candidates.discard(best)
        candidates.add(i)
    return best


# --- citations and contradictions ------------------------------------------------------


def _citation(doc: BriefSource) -> Citation:
    return Citation(article_id=doc.id, outlet=doc.outlet, url=doc.url)


def _citations_for(
    pool: _Pool, i: int, docs: Sequence[BriefSource], cfg: BriefSettings
) -> tuple[Citation, ...]:
    doc_ids = [pool.sents[i].doc]
    for j in range(len(pool.sents)):
        d = pool.sents[j].doc
        if d in doc_ids:
            continue
        if _same_fact(pool, i, j, cfg.same_fact_similarity):
            doc_ids.append(d)
    return tuple(_citation(docs[d]) for d in doc_ids)


def _label(doc: BriefSource, index: int) -> str:
    return doc.outlet or f"Source {index + 1}"


def _contradiction(
    pool: _Pool, i: int, docs: Sequence[BriefSource], cfg: BriefSettings
) -> BriefSentence | None:
    """'A reported 12 people; B reported 15 people.' when another outlet disagrees."""
    facts_i = number_facts(pool.sents[i].text)
    quantities = {k: v for k, v in facts_i.items() if not k.startswith("#")}
    if not quantities:
        return None
    di = pool.sents[i].doc
    for j in range(len(pool.sents)):
        dj = pool.sents[j].doc
        if pool.outlet_of_doc[dj] == pool.outlet_of_doc[di]:
            continue
        if pool.sim[i, j] < cfg.contradiction_similarity:
            continue
        facts_j = number_facts(pool.sents[j].text)
        for unit, value in quantities.items():
            other = facts_j.get(unit)
            if other is None or other == value:
                continue
            phrase_i = _number_phrase(pool.sents[i].text, value, unit)
            phrase_j = _number_phrase(pool.sents[j].text, other, unit)
            if not phrase_i or not phrase_j:
                continue
            text = (
                f"{_label(docs[di], di)} reported {phrase_i}; "
                f"{_label(docs[dj], dj)} reported {phrase_j}."
            )
            return BriefSentence(text=text, citations=(_citation(docs[di]), _citation(docs[dj])))
    return None


def _number_phrase(sentence: str, value: str, unit: str) -> str:
    """The verbatim span from the number to its counted word ("15 people")."""
    num = value.split()[0]
    for m in re.finditer(r"(?<![\w.])[\d,.]+", sentence):
        if m.group(0).rstrip(".,").replace(",", "") != num:
            continue
        rest = sentence[m.start() :]
        end = re.search(r"\b" + re.escape(unit) + r"\b", rest, flags=re.IGNORECASE)
        if end and end.end() <= 60:
            return rest[: end.end()]
    return ""


# --- sections ------------------------------------------------------------------------

WHAT_HAPPENED = "What happened"
DETAILS = "Details"
REACTIONS = "Reactions"
WHAT_NEXT = "What comes next"
_SECTION_ORDER = (WHAT_HAPPENED, DETAILS, REACTIONS, WHAT_NEXT)


def _section_of(sentence: SourceSentence) -> str:
    # A lead sentence (first two of its article) is the news itself, even when it quotes
    # someone or names a date ahead: it stays in "What happened".
    if sentence.position <= 1:
        return WHAT_HAPPENED
    quote = find_quote(sentence.text)
    # A reaction is mostly the speaker's own words; a fact with a quoted phrase in it
    # stays with the facts.
    if quote is not None and _words(quote.quote) >= 0.5 * _words(sentence.text):
        return REACTIONS
    if is_forward_looking(sentence.text) and not re.search(r"[\"“”]", sentence.text):
        return WHAT_NEXT
    if sentence.position <= 2:
        return WHAT_HAPPENED
    return DETAILS


def _credits(docs: Sequence[BriefSource], cited: Sequence[int]) -> tuple[str, ...]:
    out: list[str] = []
    for d in cited:
        doc = docs[d]
        name = _label(doc, d)
        if doc.authors:
            name = f"{name} ({', '.join(doc.authors)})"
        if name not in out:
            out.append(name)
    return tuple(out)


def _words(text: str) -> int:
    return len(text.split())


def brief_inputs(
    docs: Sequence[BriefSource], cfg: BriefSettings, language: str = ""
) -> tuple[list[SourceSentence], list[str], list[str]]:
    """The sentences a brief is chosen from, the documents' titles, and the texts
    `write_brief` embeds: every sentence, then every title (none without a sentence)."""
    sents: list[SourceSentence] = []
    for index, doc in enumerate(docs):
        sents.extend(doc_sentences(doc.text, index, language, cfg.max_doc_sentences))
    # a title that is an instruction to a model is no headline (nor a dek's anchor)
    titles = ["" if is_instruction(d.title) else d.title for d in docs]
    texts = [s.text for s in sents] + [t or " " for t in titles] if sents else []
    return sents, titles, texts


def write_brief(
    docs: Sequence[BriefSource], cfg: BriefSettings | None = None, language: str = ""
) -> Brief:
    """Write the extractive brief of one story from its articles, all in `language`
    (ISO 639-1; "" unknown: English rules), which the brief records.

    Every sentence of the result is a cleaned sentence of a source (or an attributed
    contradiction note quoting each source's figure verbatim) and cites every outlet that
    states it. The dek plus the sections hold at most `cfg.max_words` words. In a brief
    that is not in English, a contradiction note (written in English words) is kept apart
    in `disagreements`, never in a paragraph of the brief's language.
    """
    cfg = cfg or BriefSettings()
    sents, titles, texts = brief_inputs(docs, cfg, language)
    if not sents:
        headline = next((clean_title(t) for t in titles if t.strip()), "")
        return Brief(headline=headline, dek=(), sections=(), credits=(), language=language)

    emb = np.asarray(cfg.embedder(texts))
    sent_emb, title_emb = emb[: len(sents)], emb[len(sents) :]
    facts = [_facts(s.text, language) for s in sents]
    pool = _Pool(
        sents=sents,
        emb=sent_emb,
        sim=sent_emb @ sent_emb.T,
        outlet_of_doc=_balance_keys(docs),
        numbers=[f.numbers for f in facts],
        names=[f.names for f in facts],
        eligible=[f.eligible for f in facts],
        words=[f.words for f in facts],
        language=language,
    )
    chosen = _select(pool, cfg, cfg.max_words)
    notes = {i: _contradiction(pool, i, docs, cfg) for i in chosen}
    apart: tuple[BriefSentence, ...] = ()
    if not is_english(language):
        apart = tuple(n for n in notes.values() if n is not None)
        notes = dict.fromkeys(chosen)
    total = sum(pool.words[i] for i in chosen)
    total += sum(_words(n.text) for n in notes.values() if n is not None)
    # Make room for contradiction notes by dropping the least salient plain sentences.
    for i in reversed(list(chosen)):
        if total <= cfg.max_words:
            break
        leaned_on = any(k != i and _anchor(pool, k, chosen) == i for k in chosen)
        if notes[i] is None and len(chosen) > 1 and not leaned_on:
            chosen.remove(i)
            total -= pool.words[i]
    if total > cfg.max_words:
        notes = dict.fromkeys(chosen)
    chosen, follows = _reading_order(pool, chosen)
    heads = set(follows.values())

    # Dek: the leading sentences that say what happened (no quotes, no plans, nothing
    # that leans on a sentence before it); it ends at a sentence another one follows.
    dek_idx: list[int] = []
    for i in chosen:
        if len(dek_idx) >= cfg.dek_max_sentences:
            break
        if i in follows or _section_of(sents[i]) == REACTIONS:
            continue
        dek_idx.append(i)
        if pool.words[i] >= 20 or i in heads:
            break
    body: dict[str, list[BriefSentence]] = {name: [] for name in _SECTION_ORDER}
    dek: list[BriefSentence] = []
    cited_docs: list[int] = []
    index_of = {doc.id: k for k, doc in enumerate(docs)}
    placed: dict[int, list[BriefSentence]] = {}
    for i in chosen:
        item = BriefSentence(text=sents[i].text, citations=_citations_for(pool, i, docs, cfg))
        if i in dek_idx:
            target = dek
        elif i in follows:
            # right after its antecedent: the dek ends at a sentence that another follows,
            # so a follower of the dek is the first of "What happened"
            target = body[WHAT_HAPPENED] if follows[i] in dek_idx else placed[follows[i]]
        else:
            target = body[_section_of(sents[i])]
        target.append(item)
        placed[i] = target
        note = notes[i]
        if note is not None:
            target.append(note)
        for c in item.citations + (note.citations if note else ()):
            d = index_of[c.article_id]
            if d not in cited_docs:
                cited_docs.append(d)

    title_centroid = sent_emb.mean(axis=0)
    title_scores = [
        float(title_emb[k] @ title_centroid) if titles[k].strip() else float("-inf")
        for k in range(len(docs))
    ]
    headline = choose_headline(titles, title_scores, dek[0].text if dek else "")
    sections = tuple(
        BriefSection(heading=name, sentences=tuple(items)) for name, items in body.items() if items
    )
    return Brief(
        headline=headline,
        dek=tuple(dek),
        sections=sections,
        credits=_credits(docs, cited_docs),
        writer="extractive",
        disagreements=apart,
        language=language,
    )
