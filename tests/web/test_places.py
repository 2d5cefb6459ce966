"""Local news by place name: the offline lookup, the chooser, places in the news, and the
reader-facing wording (plurals, ages, no repeated place names, no dek that repeats the
headline). The story stage makes cut headlines whole: tests/story/test_update.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient
from webfill import Filled

from breakingon.tag.places import find_places
from breakingon.web.pages import choose_place
from breakingon.web.render import _age


def test_find_places_ranks_by_kind_and_population() -> None:
    assert [(p.name, p.kind, p.country) for p in find_places("France")] == [
        ("France", "country", "FR")
    ]
    assert find_places("texas")[0].geonameid == 4736286  # the US state
    paris = find_places("Paris")
    assert (paris[0].country, paris[1].country) == ("FR", "US")  # Paris, Texas second
    vancouver = find_places("  vancouver ")
    assert {p.country for p in vancouver} >= {"CA", "US"}
    assert all(p.name == "Vancouver" for p in vancouver)
    assert find_places("Vancou")[0].name == "Vancouver"  # prefix when no exact name
    assert find_places("Qwzxq") == () and find_places("") == ()
    assert len(find_places("Springfield", limit=3)) == 3  # several US cities, capped


def test_choose_place_only_when_the_name_is_clear() -> None:
    assert choose_place(find_places("Paris")) is not None
    assert choose_place(find_places("Texas")) is not None
    assert choose_place(find_places("Vancouver")) is None  # Canada or Washington
    assert choose_place(()) is None


def test_local_by_name_redirects_relative_or_offers_a_choice(client: TestClient) -> None:
    r = client.get("/local", params={"q": "France"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/place/3017382"
    r = client.get("/local", params={"q": "Vancouver"}, follow_redirects=False)
    assert r.status_code == 200
    assert 'href="/place/6173331"' in r.text and 'href="/place/5814616"' in r.text
    assert "Canada" in r.text and "United States" in r.text
    r = client.get("/local", params={"q": "Qwzxq"}, follow_redirects=False)
    assert r.status_code == 404 and "No place called" in r.text
    r = client.get("/local", params={"q": "<script>x</script>"}, follow_redirects=False)
    assert "<script>x" not in r.text
    assert client.get("/local", params={"q": "x" * 600}).status_code == 400
    # followed through: the place page of the chosen place
    r = client.get("/local", params={"q": "Tokyo"})
    assert r.status_code == 200 and "Local news: Tokyo" in r.text


def test_front_page_takes_a_place_name_and_lists_places_in_the_news(
    client: TestClient, filled: Filled
) -> None:
    html = client.get("/").text
    local = html[html.index('id="local-h"') : html.index("</section>", html.index('id="local-h"'))]
    assert 'action="/local"' in local and 'name="q"' in local
    assert "GeoNames" not in html
    assert 'href="/place/2988507">Paris</a>' in local and 'href="/place/1850147">Tokyo</a>' in local
    assert "1 outlets" not in html and "1 stories" not in html


def test_plurals_and_ages_read_well() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert _age(now - timedelta(seconds=20), now) == "just now"
    assert _age(now - timedelta(minutes=5), now) == "5 min ago"
    assert _age(now - timedelta(hours=1), now) == "1 hour ago"
    assert _age(now - timedelta(hours=3), now) == "3 hours ago"
    assert _age(now - timedelta(hours=30), now) == "yesterday"
    assert _age(now - timedelta(days=4), now) == "4 days ago"
    assert _age(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), now) == "5 Jan"
    assert _age(datetime(2012, 12, 14, 9, 0, tzinfo=UTC), now) == "14 Dec 2012"


def test_story_coverage_names_each_place_once(client: TestClient, filled: Filled) -> None:
    html = client.get(f"/story/{filled.stories['paris']}").text
    cov = html[
        html.index('id="coverage-h"') : html.index("</aside>", html.index('id="coverage-h"'))
    ]
    places = cov[cov.index("<dt>Places</dt>") :]
    assert places.count(">Paris</a>") == 1


def test_story_dek_does_not_repeat_the_headline(client: TestClient, filled: Filled) -> None:
    for sid in filled.stories.values():
        html = client.get(f"/story/{sid}").text
        if 'id="headline"' not in html:
            continue
        h1 = html.split('id="headline">', 1)[1].split("</h1>", 1)[0]
        for dek in re.findall(r'<p class="dek">(.*?)</p>', html, flags=re.S):
            assert not re.sub(r"<.*?>", "", dek).strip().startswith(h1)


def test_the_web_lists_the_sections_the_classifier_tags() -> None:
    from breakingon.tag.sections import SECTIONS as TAXONOMY
    from breakingon.web.params import SECTIONS

    assert SECTIONS == TAXONOMY


def test_the_web_imports_no_tagging_and_no_story_computing() -> None:
    import ast
    from pathlib import Path

    import breakingon.web

    web = Path(breakingon.web.__file__).parent
    for path in web.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not name.startswith(("breakingon.tag", "breakingon.story")), (
                    f"{path.name} imports {name}"
                )
