"""Clustering leader, story signals and briefs over a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from breakingon.extract.pagekind import non_article_kind
from breakingon.pipeline.cluster_stage import ClusterStage
from breakingon.pipeline.story_stage import StoryStage, TrendStage
from breakingon.records import Article, Feed
from breakingon.settings import Settings
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate, StoryQuery
from breakingon.tag.places import geotag

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

QUAKE = [
    (
        "Daily Planet",
        "US",
        "Magnitude 6.4 earthquake strikes near Izmir, Turkey",
        "A magnitude 6.4 earthquake struck near the Turkish city of Izmir on Tuesday, "
        "killing at least 12 people and injuring more than 200, officials said. The quake "
        "hit at 9:14 local time at a depth of 10 kilometres, according to the Turkish "
        'disaster agency AFAD. Buildings collapsed in the Bayrakli district. "We are '
        'searching every building," said Izmir governor Yavuz Selim Kosger. Rescue teams '
        "will continue working through the night, and schools will stay closed on Wednesday.",
    ),
    (
        "Le Quotidien",
        "FR",
        "Deadly earthquake in western Turkey: Izmir buildings collapse",
        "At least 12 people were killed when a magnitude 6.4 earthquake shook Izmir in "
        "western Turkey on Tuesday, according to the disaster agency AFAD. More than 200 "
        "people were injured and several buildings collapsed in the Bayrakli district of "
        "Izmir. Governor Yavuz Selim Kosger said rescuers were searching the rubble. "
        "Aftershocks were felt across the Aegean coast, including on the Greek island of Samos.",
    ),
    (
        "Rhein Zeitung",
        "DE",
        "Turkey quake: Izmir death toll rises as rescuers search rubble",
        "Rescuers in Izmir searched collapsed buildings on Tuesday night after a magnitude "
        "6.4 earthquake killed at least 12 people in western Turkey, AFAD said. The quake "
        "struck at a depth of 10 kilometres. Izmir governor Yavuz Selim Kosger said more "
        "than 200 people were injured. Schools in Izmir will remain closed on Wednesday.",
    ),
]
TRIAL = (
    "Daily Planet",
    "US",
    "Jury selection begins in Boston fraud trial of former bank executive",
    "Jury selection began on Monday in the federal fraud trial of former Harbor Bank "
    "executive Martin Hale in Boston, who is accused of hiding $40 million in losses from "
    "regulators. Prosecutors expect the trial to last six weeks. Hale has pleaded not "
    "guilty to all counts, and his lawyer said he will testify in his own defence.",
)


def _add(store: Store, outlet: str, country: str, title: str, text: str, at: datetime) -> int:
    url = f"https://{outlet.lower().replace(' ', '')}.example/feed"
    feed, _ = store.add_feed(Feed(url=url, outlet=outlet, country=country), feed_url_key(url))
    assert feed.id is not None
    art = Article(
        url=f"https://{outlet.lower().replace(' ', '')}.example/{abs(hash(title))}",
        title=title,
        text=text,
        published=at,
        item_key=title,
        language="en",
        sections=("world",),
    )
    update = FeedUpdate(
        checked_at=at,
        next_check_at=at + timedelta(minutes=15),
        interval_s=900,
        error_count=0,
        success=True,
    )
    [aid] = store.save_feed_check(feed.id, update, [art], "extracted")
    # Tagged as ingest tags an article (the story stage does not tag again), stored with
    # its text.
    tagged = replace(
        art,
        id=aid,
        places=geotag(title, text[:5000], hint_country=country),
        page_kind=non_article_kind(title, text),
    )
    store.save_extracted([tagged])
    return aid


def _drain(stage: ClusterStage | StoryStage) -> int:
    total = 0
    while (n := stage.step()) > 0:
        total += n
    return total


@pytest.fixture
def settings() -> Settings:
    return Settings(lease_s=60)


def test_stories_signals_and_briefs(store: Store, settings: Settings) -> None:
    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE)
    ]
    trial_id = _add(store, *TRIAL, T0 + timedelta(minutes=5))
    clock = lambda: T0 + timedelta(minutes=40)  # noqa: E731
    cluster = ClusterStage(settings, store, "w1", clock=clock)
    assert _drain(cluster) == 4
    by_article = {a: store.get_article(a) for a in [*ids, trial_id]}
    quake_story = {by_article[a].story_id for a in ids}  # type: ignore[union-attr]
    assert len(quake_story) == 1, "one event in three wordings is one story"
    assert by_article[trial_id].story_id not in quake_story  # type: ignore[union-attr]

    stories = StoryStage(settings, store, "w1", clock=clock)
    assert _drain(stories) == 2
    [sid] = quake_story
    assert sid is not None
    story = store.get_story(sid)
    assert story is not None
    assert story.outlet_count == 3 and story.article_count == 3
    assert set(story.countries) == {"US", "FR", "DE"}
    assert "3 outlets" in story.score_explanation
    assert story.breaking_until is not None  # 3 outlets within 30 minutes
    listed = store.list_stories(StoryQuery(breaking_at=clock()))
    assert [s.id for s in listed] == [sid]
    assert any(p.country == "TR" for p in story.places)
    brief = store.get_brief(sid)
    assert brief is not None and brief.headline
    cited = {c.article_id for s in brief.dek for c in s.citations}
    cited |= {c.article_id for sec in brief.sections for s in sec.sentences for c in s.citations}
    assert cited and cited <= {str(i) for i in ids}
    single = store.get_story(by_article[trial_id].story_id)  # type: ignore[union-attr, arg-type]
    assert single is not None and single.outlet_count == 1
    assert store.get_brief(single.id) is None  # briefs need two independent outlets
    # Without a brief: the outlet's plain title and the first sentence of its text.
    assert single.headline == TRIAL[2]
    assert single.dek == (
        "Jury selection began on Monday in the federal fraud trial of former Harbor Bank "
        "executive Martin Hale in Boston, who is accused of hiding $40 million in losses "
        "from regulators."
    )
    assert TrendStage(settings, store, clock=clock).step(force=True) >= 0


def test_non_article_pages_stay_out_of_stories(store: Store, settings: Settings) -> None:
    quake = _add(store, *QUAKE[0], T0)
    walls = [
        _add(store, outlet, "US", title, text, T0 + timedelta(minutes=i + 1))
        for i, (outlet, title, text) in enumerate(
            [
                ("Daily Planet", "Before you continue", "We use cookies. Accept all cookies."),
                ("Le Quotidien", "Video", "This video is unavailable. Autoplay is paused."),
            ]
        )
    ]
    clock = lambda: T0 + timedelta(minutes=10)  # noqa: E731
    assert _drain(ClusterStage(settings, store, "w1", clock=clock)) == 3
    stories = {a: store.get_article(a).story_id for a in [quake, *walls]}  # type: ignore[union-attr]
    assert len(set(stories.values())) == 3, "each wall its own story, none with the quake"
    assert _drain(StoryStage(settings, store, "w1", clock=clock)) == 3
    # The story stage reads each article's page kind as ingest stored it
    # (`Article.page_kind`): a story of walls only counts no report and is not listed.
    listed = [s.id for s in store.list_stories(StoryQuery(limit=10))]
    assert listed == [stories[quake]]
    wall = store.get_story(stories[walls[0]])  # type: ignore[arg-type]
    assert wall is not None and wall.outlet_count == 0 and wall.score == 0.0
    assert wall.score_explanation.startswith("not a news report (cookie consent)")


def test_new_leader_rebuilds_the_same_working_set(store: Store, settings: Settings) -> None:
    first = _add(store, *QUAKE[0][:4], T0)
    w1 = ClusterStage(settings, store, "w1", clock=lambda: T0)
    assert _drain(w1) == 1
    # w1 dies holding the lease; w2 cannot cluster until the lease expires
    second = _add(store, *QUAKE[1][:4], T0 + timedelta(minutes=5))
    later = T0 + timedelta(seconds=30)
    w2 = ClusterStage(settings, store, "w2", clock=lambda: later)
    assert w2.step() == 0
    takeover = T0 + timedelta(minutes=20)
    w2.clock = lambda: takeover
    assert _drain(w2) == 1
    a1, a2 = store.get_article(first), store.get_article(second)
    assert a1 is not None and a2 is not None
    assert a1.story_id == a2.story_id, "the new leader saw the story the old one made"
    assert _drain(StoryStage(settings, store, "w2", clock=lambda: takeover)) == 1
    assert store.stats()["stories"] == 1


def test_stalled_leader_cannot_commit_after_takeover(store: Store, settings: Settings) -> None:
    _add(store, *QUAKE[0][:4], T0)
    w1 = ClusterStage(settings, store, "w1", clock=lambda: T0)
    assert store.try_lease("cluster-leader", "w1", T0, 60)[0]
    # w1 stalls; its lease expires and w2 takes the lead
    assert store.try_lease("cluster-leader", "w2", T0 + timedelta(seconds=90), 60)[0]
    w1.clock = lambda: T0 + timedelta(seconds=30)  # w1 still believes it is in time
    w1._clusterer = None
    # w1's renewal fails (w2 holds the lease), so it does nothing
    assert w1.step() == 0
    assert store.backlog().get("articles_extracted") == 1


def test_front_page_order_favours_independent_coverage(store: Store, settings: Settings) -> None:
    # A developing story: two independent outlets an hour apart (no fast start), and a
    # one-outlet story a test adds by hand afterwards, the newest of all, from an outlet
    # the operator weighs at the most the ranking counts.
    for i, (o, c, t, x) in enumerate(QUAKE[:2]):
        _add(store, o, c, t, x, T0 + timedelta(minutes=60 * i))
    lone = _add(store, "Harbor Courier", *TRIAL[1:], T0 + timedelta(minutes=110))
    [courier] = [o.id for o in store.list_outlets() if o.name == "Harbor Courier"]
    assert courier is not None and store.set_outlet_weight(courier, 5.0)
    clock = lambda: T0 + timedelta(minutes=120)  # noqa: E731
    assert _drain(ClusterStage(settings, store, "w1", clock=clock)) == 3
    assert _drain(StoryStage(settings, store, "w1", clock=clock)) == 2
    top = store.list_stories(StoryQuery(order="score", limit=10))
    lone_story = store.get_article(lone).story_id  # type: ignore[union-attr]
    assert [s.outlet_count for s in top] == [2, 1]
    assert top[0].breaking_until is None and top[1].id == lone_story
    assert "one independent source: ranked below" in top[1].score_explanation
    # Newest first is the other order, and still there for the reader who asks for it.
    recent = store.list_stories(StoryQuery(order="recent", limit=10))
    assert recent[0].id == lone_story


def test_the_cluster_stage_reads_english_sections_with_the_embedding(
    store: Store, settings: Settings
) -> None:
    # Ingest (lexicons only, no encoder in the extraction workers) guessed World for all
    # three; the clustering stage reads them again with the batch's MiniLM vectors.
    transfer = _add(
        store,
        "Daily Planet",
        "GB",
        "Striker signs for rivals in record deal",
        "The forward joined on a five-year contract after a medical on Friday.",
        T0,
    )
    shooting = _add(
        store,
        "Le Quotidien",
        "US",
        "Gunman opens fire at a Kansas shopping mall, killing three",
        "Police said the suspect was taken into custody after the shooting on Saturday.",
        T0 + timedelta(minutes=1),
    )
    quake = _add(store, *QUAKE[0], T0 + timedelta(minutes=2))
    clock = lambda: T0 + timedelta(minutes=10)  # noqa: E731
    assert _drain(ClusterStage(settings, store, "w1", clock=clock)) == 3
    sections = {a: store.get_article(a).sections for a in (transfer, shooting, quake)}  # type: ignore[union-attr]
    assert sections[transfer] == ("sports",)
    assert sections[shooting] == ()  # a domestic crime report fits none of the sections
    assert sections[quake][:1] == ("world",)
    assert _drain(StoryStage(settings, store, "w1", clock=clock)) == 3
    story = store.get_story(store.get_article(shooting).story_id)  # type: ignore[union-attr,arg-type]
    assert story is not None and "world" not in story.sections


def test_signals_are_judged_on_the_replays_clock(store: Store, settings: Settings) -> None:
    # A replay (`breakingon demo`) plays the stream hours behind the wall clock: its
    # fast start is breaking on the replay's clock while leases and saves keep the wall's.
    ids = [_add(store, *QUAKE[i], T0 + timedelta(minutes=i)) for i in range(3)]
    wall = lambda: T0 + timedelta(hours=30)  # noqa: E731
    assert _drain(ClusterStage(settings, store, "w1", clock=wall)) == 3
    sid = store.get_article(ids[0]).story_id  # type: ignore[union-attr]
    assert sid is not None
    replay = T0 + timedelta(minutes=20)
    stage = StoryStage(settings, store, "w1", clock=wall, signal_clock=lambda: replay)
    assert _drain(stage) == 1
    story = store.get_story(sid)
    assert story is not None and story.breaking_until is not None
    assert story.breaking_since is not None and story.breaking_until > replay
    store.mark_stories_dirty([sid])
    assert _drain(StoryStage(settings, store, "w1", clock=wall)) == 1  # the wall's clock
    again = store.get_story(sid)
    assert again is not None and (again.breaking_until is None or again.breaking_until < wall())
