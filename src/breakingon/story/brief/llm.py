"""Optional abstractive brief writer over an OpenAI-compatible endpoint, with a checker.

`rewrite_brief(docs, extractive, llm, environ, post=...)` asks the operator's
chat-completions endpoint (any OpenAI-compatible server) to rewrite the extractive brief
as JSON, then
accepts the answer only if every sentence cites sources and is supported by them
(`support.check_support`: embedding similarity to a cited source sentence that agrees
with it in negation and roles, every number and name in the cited articles, no
instruction to a model as support). Otherwise (or on any transport or format error)
the extractive brief is returned unchanged. Off by default. The rewrite keeps to the
brief's language (`Brief.language`): the model is told to write in it and never to
translate, it is given only the reports in that language, every sentence is checked
with that language's rules, and the reporting in other languages is kept as it was.

It opens no sockets: the request goes through the `post` callable the caller injects
(`PostJson`; the pipeline passes `breakingon.crawl.api.ApiClient.post_json`, one
long-lived client). It must not touch the store, the network or the web layer, and it
never reads the process environment itself: the API key comes from the `environ`
mapping the caller passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from breakingon.languages.sentences import is_english, word_count
from breakingon.records import Brief, BriefSection, BriefSentence, Citation
from breakingon.story.brief.extractive import BriefSettings, BriefSource, is_neutral_headline
from breakingon.story.brief.support import check_support
from breakingon.text import normalize_space

__all__ = ["LLMOutcome", "LLMSettings", "PostJson", "check_support", "rewrite_brief"]

_HEADINGS = ("What happened", "Details", "Reactions", "What comes next")
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s@]*@")


def _redacted(text: str) -> str:
    """`text` with the userinfo (user and password) of every URL in it masked: the
    outcome's reason is logged, and the endpoint URL may carry credentials."""
    return _USERINFO.sub(r"\1***@", text)


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """Operator configuration of the abstractive writer (off unless `enabled`)."""

    enabled: bool = False
    endpoint: str = ""  # base URL, e.g. "http://127.0.0.1:8080/v1"
    model: str = ""
    api_key_env: str = "BREAKINGON_LLM_API_KEY"  # name of the variable holding the key
    timeout_s: float = 60.0
    max_tokens: int = 900
    min_support: float = 0.6  # cosine similarity to a cited source sentence


class PostJson(Protocol):
    """Sends one JSON request to the operator's endpoint; returns the decoded JSON answer.

    Raises OSError when the endpoint cannot be reached, times out or answers with an
    error status, and ValueError when the answer is not JSON or is too large.
    """

    def __call__(
        self,
        url: str,
        payload: Mapping[str, object],
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class LLMOutcome:
    """The brief to publish and why: `accepted` False means the extractive one is used."""

    brief: Brief
    accepted: bool
    reason: str  # "" when accepted, else what failed ("unsupported: ...", "http: ...")


_SYSTEM = (
    "You are a wire-service editor. Rewrite the numbered brief into a neutral, factual "
    "brief. Use only facts stated in the sources. Every sentence must list the ids of the "
    'sources that state it. Answer with JSON only: {"headline": str, "dek": '
    '[{"text": str, "sources": [id]}], "sections": [{"heading": one of '
    + ", ".join(_HEADINGS)
    + ', "sentences": [{"text": str, "sources": [id]}]}]}'
)


def _system(language: str) -> str:
    """The instructions, with the brief's language when it is not English."""
    if is_english(language):
        return _SYSTEM
    return _SYSTEM + (
        f' The brief and its sources are in the language with ISO 639-1 code "{language}":'
        " write every sentence in that language, in the sources' own words; never translate."
    )


def _prompt(extractive: Brief) -> str:
    lines = [f"Headline: {extractive.headline}"]
    for sent in extractive.dek:
        ids = ",".join(c.article_id for c in sent.citations)
        lines.append(f"[{ids}] {sent.text}")
    for sec in extractive.sections:
        lines.append(f"## {sec.heading}")
        for sent in sec.sentences:
            ids = ",".join(c.article_id for c in sent.citations)
            lines.append(f"[{ids}] {sent.text}")
    return "\n".join(lines)


def _parse(content: str) -> dict[str, object]:
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text.split("\n", 1)[1] if "\n" in text else text
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the answer")
    value = json.loads(text[start : end + 1])
    if not isinstance(value, dict):
        raise ValueError("answer is not a JSON object")
    return value


def _sentences(raw: object, by_id: Mapping[str, BriefSource]) -> list[tuple[str, list[str]]]:
    if not isinstance(raw, list):
        raise ValueError("expected a list of sentences")
    out: list[tuple[str, list[str]]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValueError("sentence without text")
        ids = item.get("sources", [])
        if not isinstance(ids, list):
            raise ValueError("sources must be a list")
        out.append((normalize_space(item["text"]), [str(i) for i in ids if str(i) in by_id]))
    return out


def _citation(doc: BriefSource) -> Citation:
    return Citation(article_id=doc.id, outlet=doc.outlet, url=doc.url)


def _build(
    answer: dict[str, object],
    docs: Sequence[BriefSource],
    extractive: Brief,
    cfg: BriefSettings,
    llm: LLMSettings,
) -> Brief:
    """Turn the model's JSON into a Brief, raising ValueError on any unsupported sentence."""
    by_id = {d.id: d for d in docs}
    headline = answer.get("headline")
    if not isinstance(headline, str) or not headline.strip():
        raise ValueError("missing headline")
    headline = normalize_space(headline)
    if not is_neutral_headline(headline):
        raise ValueError("headline is not neutral")
    language = extractive.language
    reason = check_support(headline, docs, cfg, llm.min_support, language)
    if reason:
        raise ValueError(f"unsupported headline: {reason}")

    def checked(raw: object) -> tuple[BriefSentence, ...]:
        out: list[BriefSentence] = []
        for text, ids in _sentences(raw, by_id):
            cited = [by_id[i] for i in dict.fromkeys(ids)]
            why = check_support(text, cited, cfg, llm.min_support, language)
            if why:
                raise ValueError(f"unsupported: {text[:60]!r}: {why}")
            out.append(BriefSentence(text=text, citations=tuple(_citation(d) for d in cited)))
        return tuple(out)

    dek = checked(answer.get("dek", []))
    if not dek:
        raise ValueError("empty dek")
    sections: list[BriefSection] = []
    raw_sections = answer.get("sections", [])
    if not isinstance(raw_sections, list):
        raise ValueError("sections must be a list")
    for raw in raw_sections:
        if not isinstance(raw, dict) or raw.get("heading") not in _HEADINGS:
            raise ValueError("section with an unknown heading")
        sentences = checked(raw.get("sentences", []))
        if sentences:
            sections.append(BriefSection(heading=str(raw["heading"]), sentences=sentences))
    brief = Brief(
        headline=headline,
        dek=dek,
        sections=tuple(sections),
        credits=extractive.credits,
        writer=f"llm:{llm.model}",
        disagreements=extractive.disagreements,
        language=language,
        other_languages=extractive.other_languages,
    )
    if word_count(brief.summary_text(), language) > cfg.max_words:
        raise ValueError("over the word budget")
    return brief


def rewrite_brief(
    docs: Sequence[BriefSource],
    extractive: Brief,
    llm: LLMSettings,
    environ: Mapping[str, str],
    cfg: BriefSettings | None = None,
    *,
    post: PostJson,
) -> LLMOutcome:
    """Ask the configured endpoint (through `post`) for an abstractive brief; keep it
    only if supported.

    Returns the extractive brief (accepted=False, with the reason) when the writer is
    disabled, the endpoint fails or times out, the answer is malformed, or any sentence
    is not supported by the sources it cites.
    """
    cfg = cfg or BriefSettings()
    if not llm.enabled or not llm.endpoint or not llm.model:
        return LLMOutcome(extractive, False, "disabled")
    headers = {"Content-Type": "application/json"}
    key = environ.get(llm.api_key_env, "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    payload = {
        "model": llm.model,
        "temperature": 0,
        "max_tokens": llm.max_tokens,
        "messages": [
            {"role": "system", "content": _system(extractive.language)},
            {"role": "user", "content": _prompt(extractive)},
        ],
    }
    url = llm.endpoint.rstrip("/") + "/chat/completions"
    try:
        answer = post(url, payload, headers=headers, timeout_s=llm.timeout_s)
        content = answer["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise ValueError("answer content is not text")
    except (OSError, KeyError, IndexError, TypeError, ValueError) as exc:
        why = _redacted(f"http: {type(exc).__name__}: {exc}")  # it may quote the URL
        return LLMOutcome(extractive, False, why[:200])
    try:
        brief = _build(_parse(content), docs, extractive, cfg, llm)
    except (ValueError, json.JSONDecodeError) as exc:
        return LLMOutcome(extractive, False, str(exc)[:200])
    return LLMOutcome(brief, True, "")
