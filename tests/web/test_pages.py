"""HTML pages against a real SQLite store filled through the Store API."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from starlette.testclient import TestClient
from webfill import BASE, XSS, Filled


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if "id" in d:
            self.ids.add(d["id"])
        if tag == "a":
            self.anchors.append(d)


def parse(html: str) -> _Links:
    p = _Links()
    p.feed(html)
    return p


def test_front_page_has_top_stories_breaking_trends_sections_and_footer(
    client: TestClient, filled: Filled
) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    top = html.index('id="top-h"')
    # Ordered by importance: the quake (9.6) before the Paris budget (5.0).
    assert html.index("Earthquake strikes near Tokyo", top) < html.index(
        "Paris council approves budget", top
    )
    assert 'class="breaking"' in html and html.index("Breaking") < top
    assert "3 outlets" in html  # outlet count
    assert re.search(r"\d+ (min|h) ago", html)  # age
    assert '<a href="/search?q=earthquake">earthquake</a>' in html  # trending bar
    assert 'href="/section/politics"' in html and 'id="sec-politics"' in html
    assert "Test Wire gathers reporting from test outlets." in html
    assert "© Test Wire contributors" in html
    links = parse(html)
    assert {"main", "nav", "header", "footer"} <= set(links.tags)


def test_front_page_local_news_for_a_place(client: TestClient, filled: Filled) -> None:
    html = client.get("/?place=2988507").text
    local = html[html.index('id="local-h"') :]
    assert "Paris" in local and f'href="/story/{filled.stories["paris"]}"' in local
    assert "Earthquake" not in local.split("</section>")[0]


def test_story_page_has_the_wire_brief_shape(client: TestClient, filled: Filled) -> None:
    sid = filled.stories["quake"]
    r = client.get(f"/story/{sid}")
    assert r.status_code == 200
    html = r.text
    links = parse(html)
    assert "Test Wire" in html.split('class="label"')[1][:100]  # site label
    assert "Earthquake strikes near Tokyo</h1>" in html  # the brief's headline
    assert "First reported" in html and "Updated" in html
    assert "A magnitude 6.1 earthquake struck near Tokyo on Monday." in html
    assert "<h2>What happened</h2>" in html and "<h2>Reactions</h2>" in html
    assert "<h2>What comes next</h2>" in html  # from the second brief version
    assert "Reporting by Reuters, NHK, Le Monde." in html
    # Every citation marker points at a numbered source that links to the article.
    cites = [a for a in links.anchors if a.get("class") == "cite"]
    assert len(cites) >= 5
    for a in cites:
        target = a["href"].removeprefix("#")
        assert target in links.ids
    sources = [a for a in links.anchors if a.get("class") == "source-link"]
    assert {a["href"] for a in sources} >= {
        "https://nhk.example/news/quake",
        "https://reuters.example/world/quake",
        "https://lemonde.example/monde/seisme",
    }
    assert all(a["rel"] == "noopener noreferrer" for a in sources)
    # Coverage: outlets with country and ownership, countries, languages.
    cov = html[html.index('id="coverage-h"') :]
    assert "NHK</a> (Japan, public)" in cov and "Reuters</a> (United Kingdom, private)" in cov
    assert "public: 1" in cov and "private: 2" in cov
    countries = cov[cov.index("<dt>Countries</dt>") :].split("</dd>")[0]
    assert "France" in countries and "Japan" in countries and "JP" not in countries
    # One list of the articles: the sources. The timeline tells the development (first
    # report, who joined from where, brief versions, the latest report), not the list.
    tl = html[html.index('id="timeline-h"') :].split("</section>")[0]
    nhk = re.search(
        r'<li id="src-(\d+)">\s*<a class="source-link" href="https://nhk.example/', html
    )
    assert nhk is not None
    assert f'<a href="#src-{nhk.group(1)}">First reported by NHK (Japan).</a>' in tl
    # Reuters (10 min later) and Le Monde (25 min) joined within the hour: one event.
    joined = "Reuters and Le Monde join the coverage; first reports from United Kingdom and France."
    assert joined in tl
    assert "Brief written from 3 articles." in tl and "Brief updated (version 2" in tl
    assert "Latest report, from Reuters (4 reports so far)." in tl
    for title in ("Strong earthquake hits Tokyo", "Quake of magnitude 6.1 jolts Tokyo"):
        assert html.count(title) == 1, title  # in the sources only
    # Times: relative and absolute, from the stored instants.
    times = html[html.index('class="times"') :].split("</p>")[0]
    assert re.search(
        r'First reported <time datetime="[0-9T:+-]+" title="[^"]+ UTC">3 hours ago \(', times
    )
    assert re.search(r"Updated <time [^>]+>(just now|\d+ min ago) \(\d+ \w+ 20\d\d, ", times)
    assert f'href="{BASE}/story/{sid}/feed.atom"' in html
    assert f'<link rel="canonical" href="{BASE}/story/{sid}">' in html


def test_changes_view_shows_a_diff_of_each_version(client: TestClient, filled: Filled) -> None:
    html = client.get(f"/story/{filled.stories['quake']}/changes").text
    assert html.index('id="v2"') < html.index('id="v1"')  # newest first
    v2 = html[html.index('id="v2"') : html.index('id="v1"')]
    assert '<p class="ins"><ins>Two aftershocks followed the earthquake near Tokyo.</ins></p>' in v2
    assert '<h3 class="ins"><ins>What comes next</ins></h3>' in v2
    assert "1 sentence added." in v2
    # Unchanged sentences are folded to a count, never repeated as churn.
    assert "Trains were halted" not in v2 and "A magnitude 6.1" not in v2
    assert v2.count("… 1 unchanged sentence</p>") == 3  # the dek and one per section
    assert re.search(r"Version 2 · <time datetime=\S+ title=\"[^\"]+\">just now \(", v2)
    v1 = html[html.index('id="v1"') :]
    assert "First version of the brief." in v1 and "Trains were halted" in v1


def test_merged_story_redirects_to_its_new_id_on_site(client: TestClient, filled: Filled) -> None:
    r = client.get(f"/story/{filled.stories['merged_from']}", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == f"{BASE}/story/{filled.stories['merged_into']}"


def test_section_place_outlet_search_about_status_pages(client: TestClient, filled: Filled) -> None:
    world = client.get("/section/world").text
    assert "Earthquake strikes near Tokyo" in world and "Paris council" not in world
    assert client.get("/section/nonsense").status_code == 404
    tokyo = client.get("/place/1850147").text
    assert "Local news: Tokyo<" in tokyo and "City in Japan" in tokyo and "Earthquake" in tokyo
    france = client.get("/place/3017382").text  # a country page holds its cities' stories
    assert "Paris council approves budget" in france
    assert client.get("/place/999999999").status_code == 404
    outlet = client.get(f"/outlet/{filled.outlets['NHK']}").text
    assert "https://nhk.example/rss.xml" in outlet and "timeout" in outlet and ">3<" in outlet
    assert "Earthquake strikes near Tokyo" in outlet
    search = client.get("/search", params={"q": "aftershocks"}).text
    assert "<mark>Aftershocks</mark> rattle Tokyo" in search
    assert client.get("/search", params={"q": "x" * 501}).status_code == 400
    assert "Test Wire gathers reporting" in client.get("/about").text
    status = client.get("/status").text
    for needle in ("Stories dirty", "Feeds failing", "worker-2", "timeout", "Recent runs"):
        assert needle in status


def test_unknown_page_is_an_html_404(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"] and "Not found" in r.text


def test_hostile_fields_are_escaped_in_elements_and_attributes(
    client: TestClient, filled: Filled
) -> None:
    for path in (
        "/",
        f"/story/{filled.stories['evil']}",
        f"/story/{filled.stories['evil']}/changes",
        f"/outlet/{filled.outlets[XSS]}",
        "/status",
        "/search?q=onerror",
        "/section/technology",
        "/place/5128581",
    ):
        html = client.get(path).text
        assert "<img src=x" not in html, path
        assert "<script>alert" not in html, path
        assert "javascript:" not in html, path
        # No template evaluation: the payload's "{{7*7}}" never turns into "49" (looked for
        # right where the payload puts it, since a time such as 14:49 may be on the page).
        assert not re.search(r"alert\(1\)(?:&gt;|>)\s*49", html), path
    story = client.get(f"/story/{filled.stories['evil']}").text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; {{7*7}}" in story
    # The article's javascript: URL is shown as text, never as a link.
    assert 'href="javascript' not in story.lower()


def test_absolute_urls_come_from_settings_not_the_host_header(client: TestClient) -> None:
    r = client.get("/", headers={"Host": "evil.example"})
    assert "evil.example" not in r.text
    assert f'href="{BASE}/feed.atom"' in r.text
    feed = client.get(
        "/feed.atom", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    )
    assert "evil.example" not in feed.text and BASE in feed.text


def test_next_parameter_never_redirects_off_site(client: TestClient) -> None:
    for bad in (
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        r = client.get("/local", params={"place": "2988507", "next": bad}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == f"{BASE}/?place=2988507"
    r = client.get("/local", params={"next": "/section/world"}, follow_redirects=False)
    assert r.headers["location"] == f"{BASE}/section/world"
    for path in ("/", "/search", "/story/1"):
        r = client.get(path, params={"next": "//evil.example"}, follow_redirects=False)
        assert "evil.example" not in r.headers.get("location", "")
