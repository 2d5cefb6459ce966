"""The abstractive writer against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from breakingon.story.brief.extractive import BriefSource, write_brief
from breakingon.story.brief.llm import LLMSettings, rewrite_brief

DOCS = [
    BriefSource(
        id="r1",
        outlet="Reuters",
        title="Flooding forces thousands from homes in Valencia",
        text=(
            "VALENCIA (Reuters) - Flash floods forced about 3,000 people from their homes in "
            "Valencia on Tuesday after record rainfall.\n\n"
            "Emergency services said rivers rose two metres in four hours.\n\n"
            '"The water came in faster than anyone expected," said Mayor Maria Jose Catala.'
        ),
    ),
    BriefSource(
        id="e1",
        outlet="El Pais",
        title="Valencia floods displace thousands",
        text=(
            "Flash floods forced about 3,000 people from their homes in Valencia on Tuesday "
            "after record rainfall.\n\n"
            "Schools in the city will stay closed until Friday, the regional government said."
        ),
    ),
]


class _Fake:
    def __init__(self) -> None:
        self.answer: dict[str, Any] = {}
        self.status = 200
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []


@pytest.fixture()
def fake_llm() -> Iterator[tuple[str, _Fake]]:
    state = _Fake()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, dict(self.headers.items()), body))
            content = json.dumps(state.answer)
            reply = {"choices": [{"message": {"role": "assistant", "content": content}}]}
            data = json.dumps(reply).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()


def _settings(url: str) -> LLMSettings:
    return LLMSettings(enabled=True, endpoint=url, model="fake-1", timeout_s=10)


def _answer(dek: str, extra: str) -> dict[str, Any]:
    return {
        "headline": "Flooding forces thousands from homes in Valencia",
        "dek": [{"text": dek, "sources": ["r1", "e1"]}],
        "sections": [
            {"heading": "Details", "sentences": [{"text": extra, "sources": ["r1"]}]},
            {
                "heading": "What comes next",
                "sentences": [
                    {
                        "text": "Schools in Valencia will stay closed until Friday.",
                        "sources": ["e1"],
                    }
                ],
            },
        ],
    }


def test_supported_rewrite_is_accepted(fake_llm: tuple[str, _Fake]) -> None:
    url, fake = fake_llm
    fake.answer = _answer(
        "Flash floods drove about 3,000 people from their homes in Valencia on Tuesday.",
        "Rivers rose two metres in four hours, emergency services said.",
    )
    extractive = write_brief(DOCS)
    outcome = rewrite_brief(DOCS, extractive, _settings(url), {"BREAKINGON_LLM_API_KEY": "k-123"})
    assert outcome.accepted, outcome.reason
    assert outcome.brief.writer == "llm:fake-1"
    assert outcome.brief.dek[0].text.startswith("Flash floods drove about 3,000 people")
    assert {c.article_id for c in outcome.brief.dek[0].citations} == {"r1", "e1"}
    path, headers, body = fake.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer k-123"
    assert body["model"] == "fake-1"
    assert "[r1" in body["messages"][1]["content"]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("Rivers rose two metres in four hours and 27 people died.", "number"),
        ("Prime Minister Pedro Sanchez flew to Valencia on Tuesday.", "name"),
    ],
)
def test_unsupported_number_or_name_falls_back_to_extractive(
    fake_llm: tuple[str, _Fake], extra: str, why: str
) -> None:
    url, fake = fake_llm
    fake.answer = _answer(
        "Flash floods drove about 3,000 people from their homes in Valencia on Tuesday.", extra
    )
    extractive = write_brief(DOCS)
    outcome = rewrite_brief(DOCS, extractive, _settings(url), {})
    assert not outcome.accepted
    assert why in outcome.reason
    assert outcome.brief is extractive
    assert outcome.brief.writer == "extractive"
    assert len(fake.requests) == 1


def test_sentence_citing_the_wrong_source_is_rejected(fake_llm: tuple[str, _Fake]) -> None:
    url, fake = fake_llm
    answer = _answer(
        "Flash floods drove about 3,000 people from their homes in Valencia on Tuesday.",
        "Rivers rose two metres in four hours, emergency services said.",
    )
    answer["sections"][1]["sentences"][0]["sources"] = ["r1"]  # the schools fact is e1's
    fake.answer = answer
    outcome = rewrite_brief(DOCS, write_brief(DOCS), _settings(url), {})
    assert not outcome.accepted and "unsupported" in outcome.reason


def test_disabled_or_failing_endpoint_uses_extractive(fake_llm: tuple[str, _Fake]) -> None:
    url, fake = fake_llm
    extractive = write_brief(DOCS)
    off = rewrite_brief(DOCS, extractive, LLMSettings(endpoint=url, model="m"), {})
    assert not off.accepted and off.reason == "disabled" and not fake.requests
    fake.status = 503
    outcome = rewrite_brief(DOCS, extractive, _settings(url), {})
    assert not outcome.accepted and outcome.reason.startswith("http:")
    assert outcome.brief is extractive


def test_story_stage_uses_the_configured_writer(fake_llm: tuple[str, _Fake]) -> None:
    """The pipeline's brief step calls the operator's endpoint and keeps a supported answer."""
    from datetime import UTC, datetime

    from breakingon.pipeline.story_stage import llm_settings
    from breakingon.records import Article
    from breakingon.settings import Settings
    from breakingon.story.brief.documents import write_story_brief

    url, fake = fake_llm
    answer = _answer(
        "Flash floods drove about 3,000 people from their homes in Valencia on Tuesday.",
        "Rivers rose two metres in four hours, emergency services said.",
    )
    for part in [answer["dek"], *(s["sentences"] for s in answer["sections"])]:
        for sentence in part:
            sentence["sources"] = [{"r1": "1", "e1": "2"}[x] for x in sentence["sources"]]
    fake.answer = answer
    when = datetime(2026, 11, 20, tzinfo=UTC)
    articles = [
        Article(
            id=int(i),
            url=f"https://{d.outlet.replace(' ', '')}.example/a",
            title=d.title,
            text=d.text,
            published=when,
            outlet=d.outlet,
        )
        for i, d in zip(("1", "2"), DOCS, strict=True)
    ]
    assert llm_settings(Settings()) is None  # off by default
    llm = llm_settings(Settings(llm_url=url, llm_model="fake-1"))
    brief = write_story_brief(articles, llm=llm, api_key="k-9")
    assert brief is not None and brief.writer == "llm:fake-1"
    assert fake.requests[0][1]["Authorization"] == "Bearer k-9"
    assert write_story_brief(articles) is not None  # extractive without the setting
