"""Article extraction: the pure function, the hard-timeout pool, the CLI, and an
AEB regression gate using bench/extraction's scorer."""

from __future__ import annotations

import gzip
import importlib.machinery
import importlib.util
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from breakingon.extract.article import MAX_PAGE_BYTES, ExtractorPool, extract_article
from breakingon.sim.server import Newsroom
from breakingon.sim.stream import StreamArticle

ROOT = Path(__file__).resolve().parents[2]
AEB = ROOT / ".." / "shared" / "data" / "extraction" / "aeb"

BODY = (
    "Rescue teams worked through the night after a magnitude 6.1 earthquake struck the "
    "coastal province early on Tuesday, officials said. At least twelve people were killed "
    "and dozens injured as buildings collapsed in three towns near the epicentre. The "
    "national seismology institute said the quake was centred 10 kilometres below the sea "
    "floor. Aftershocks continued into the morning, and schools across the region were "
    "closed. The prime minister said the army would help clear roads and deliver water to "
    "villages cut off by landslides. Residents described being woken by a violent shaking "
    "that lasted nearly a minute."
)


def _page() -> tuple[str, str]:
    article = StreamArticle(
        id="quake-1",
        outlet="Coast Times",
        domain="coasttimes.example",
        published=datetime(2025, 2, 11, 6, 30, tzinfo=UTC),
        title="Earthquake kills twelve in coastal province",
        text=BODY,
    )
    room = Newsroom([article], speed=0)  # rendering only: never started
    outlet = room._outlets["coasttimes.example"]
    return room.render_article(outlet, article), room.article_url("quake-1")


def test_extracts_body_and_metadata_without_boilerplate() -> None:
    html, url = _page()
    result = extract_article(html, url)
    assert result.error is None
    assert result.title == "Earthquake kills twelve in coastal province"
    assert "magnitude 6.1 earthquake" in result.text and "nearly a minute" in result.text
    for noise in ("Sign up now", "Comments are moderated", "Privacy policy", "Share this"):
        assert noise not in result.text
    assert result.published == datetime(2025, 2, 11, 6, 30, tzinfo=UTC)
    assert result.language == "en"
    assert len(result.authors) == 1
    assert extract_article(html.encode("utf-8"), url) == result  # bytes in, same result


def test_markup_looking_page_text_is_never_a_tag_in_the_extracted_text() -> None:
    # The page escapes it ("&lt;img src=x onerror=...&gt;"), so the extractor's text
    # would carry it as "<img src=x onerror=...>": the text that briefs, headlines and
    # outbound feeds are made from holds no tag.
    hostile = (
        "<img src=x onerror=alert(1)> <svg/onload=alert(2)> "
        '<a href="javascript:alert(3)">more</a> <<b>img src=y onerror=alert(4)>'
    )
    article = StreamArticle(
        id="quake-2",
        outlet="Coast Times",
        domain="coasttimes.example",
        published=datetime(2025, 2, 11, 6, 30, tzinfo=UTC),
        title="Earthquake kills twelve in coastal province",
        text=BODY.replace("officials said.", f"officials said. {hostile} Officials added."),
    )
    room = Newsroom([article], speed=0)
    html = room.render_article(room._outlets["coasttimes.example"], article)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # escaped in the page itself
    result = extract_article(html, room.article_url("quake-2"))
    assert result.error is None
    assert "officials said." in result.text and "nearly a minute" in result.text
    assert not re.search(r"<[a-zA-Z/!?]", result.text), result.text
    assert "onerror" not in result.text or "<" not in result.text


@pytest.mark.parametrize(
    ("page", "error"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)), "not_html"),
        (b"<html>" + b"x" * (MAX_PAGE_BYTES + 1), "too_large"),
        ("<html><head><title>t</title></head><body>  </body></html>", "no_text"),
    ],
)
def test_d6_refusals_before_parsing(page: bytes | str, error: str) -> None:
    assert extract_article(page, "https://x.example/").error == error


def test_d6_pool_kills_a_stuck_worker_and_keeps_going() -> None:
    html, url = _page()
    deep = "<div>" * 100_000 + "<p>deep text</p>" + "</div>" * 100_000
    big = (
        "<html><body>"
        + "<p>"
        + ("word " * 200)
        + "</p>" * 1
        + "<div><span>x</span></div>" * 120_000
    )
    with ExtractorPool(workers=1, timeout_s=0.2) as pool:
        warm = pool.extract_sync(html, url)  # the first call pays the worker's start-up
        assert warm.error in (None, "extract_timeout")
        started = time.perf_counter()
        stuck = pool.extract_sync(big, url)
        assert stuck.error == "extract_timeout"
        assert time.perf_counter() - started < 5
    with ExtractorPool(workers=2, timeout_s=20) as pool:
        results = pool.extract_many([(html, url), (deep, url), (html, url)])
        assert results[0].title == results[2].title == "Earthquake kills twelve in coastal province"
        assert results[1].error in (None, "no_text", "extract_error", "extract_timeout")

        import asyncio

        async def both() -> list[str]:
            got = await asyncio.gather(pool.extract(html, url), pool.extract(html, url))
            return [g.title for g in got]

        assert asyncio.run(both()) == ["Earthquake kills twelve in coastal province"] * 2


def test_cli_extract_prints_json_lines_and_reports_bad_files(tmp_path: Path) -> None:
    from breakingon.cli import extract  # noqa: F401 - registers the command
    from breakingon.cli.app import app

    html, _url = _page()
    good = tmp_path / "page.html.gz"
    good.write_bytes(gzip.compress(html.encode()))
    plain = tmp_path / "page.html"
    plain.write_text(html, encoding="utf-8")
    bad = tmp_path / "broken.html.gz"
    bad.write_bytes(b"not gzip at all")
    result = CliRunner().invoke(app, ["extract", str(good), str(bad), str(plain)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [str(good), str(plain)]
    assert set(lines[0]) == {"source", "url", "title", "text", "authors", "published",
                             "language", "image"}  # fmt: skip
    assert lines[0]["title"] == "Earthquake kills twelve in coastal province"
    assert lines[0]["published"] == "2025-02-11T06:30:00+00:00"
    assert "broken.html.gz" in result.stderr


def _bench() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader(
        "bench_extraction", str(ROOT / "bench" / "extraction")
    )
    spec = importlib.util.spec_from_loader("bench_extraction", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_scorer_matches_the_benchmark_definition() -> None:
    bench = _bench()
    assert bench.tp_fp_fn("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    tp, fp, fn = bench.tp_fp_fn("a b c d e f", "a b c d")  # 3 true shingles, 1 predicted
    assert (tp, fp, fn) == pytest.approx((1 / 3, 0.0, 2 / 3))
    metrics = bench.aggregate([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0)])
    assert metrics["precision"] == pytest.approx(0.75) and metrics["recall"] == 1.0


@pytest.mark.skipif(not (AEB / "ground-truth.json").exists(), reason="AEB data missing")
def test_aeb_regression_floor_on_a_subset() -> None:
    # The first 40 pages (sorted by id) measured 0.972 shingle F1 with the shipped
    # options; the full set measures 0.964 (bench/extraction). Floor leaves noise room.
    metrics = _bench().score(AEB, limit=40)
    assert metrics["shingle_f1"] >= 0.95, metrics
    assert metrics["failed"] == 0
