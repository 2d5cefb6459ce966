"""The storage contract: one interface, two backends (SQLite embedded, PostgreSQL at scale).

Everything the pipeline, the CLI and the web layer read or write goes through `Store`,
the union of one protocol per consumer: `ReadStore` (readers: the web layer, the story
stage), `SourceStore` (managing outlets and feeds), `CrawlStore` (ingest: polling,
pushes, archives, extraction), `WebSubStore` (WebSub subscriptions), `LeaseStore`
(named leases and meta), `ClusterStore` (the clustering stage), `StoryStore` (the story
and trend stages), `OpsStore` (retention, metrics, health), `UserStore` and
`ReaderStore` (readers' accounts and streams, declared in `store.base_accounts`),
`AlertStore` (alert rules, push subscriptions and the outbox, in `store.base_alerts`) and
`WebStore` (the web layer's union). A consumer asks for the narrowest protocol it needs.

Methods take and return records (`breakingon.records`) or the small intent records
below, never rows. Writes that belong together (a feed's new items and its new
validators; a batch of clustering decisions and the story states) commit in one
transaction. Work is claimed with leases so several workers never do the same item.
This module holds no SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from breakingon.records import (
    Article,
    Brief,
    Feed,
    FeedStatus,
    ImageCandidate,
    ImageFile,
    Outlet,
    Place,
    Story,
    StoryImage,
)
from breakingon.store.base_accounts import ReaderStore as ReaderStore
from breakingon.store.base_accounts import UserStore as UserStore
from breakingon.store.base_alerts import AlertStore as AlertStore


class StoreError(RuntimeError):
    """A storage failure with a message fit for an operator."""


class LeaseLost(StoreError):
    """A named lease expired or was taken over before the holder committed."""


class SchemaTooNew(StoreError):
    """The database was written by a newer BreakingOn."""


class TooManyFollows(StoreError):
    """A user already follows `MAX_FOLLOWS` streams."""


class TooManyRules(StoreError):
    """A user already has `MAX_RULES` alert rules (or `MAX_PUSH_SUBSCRIPTIONS`)."""


ArticleState = Literal["discovered", "extracted", "clustered"]
# Every kind `OpsStore.backlog` reports, each time (0 when there is none of it).
BACKLOG_KINDS: tuple[str, ...] = (
    *(f"articles_{state}" for state in get_args(ArticleState)),
    "stories_dirty",
    "feeds_due",
    "feeds_failing",
)


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """The outcome of one feed check, committed with the feed's new items."""

    checked_at: datetime
    next_check_at: datetime | None  # None: the feed has ended
    interval_s: int
    error_count: int
    status: FeedStatus = "active"
    last_error: str | None = None
    success: bool = False
    etag: str | None = None  # None keeps the stored validator
    last_modified: str | None = None
    body_hash: str | None = None
    redirect_to: str | None = None  # a permanent redirect seen this time


@dataclass(frozen=True, slots=True)
class Membership:
    """One clustering decision: `article_id` belongs to `story_id`. `sections`, when
    given, replace the article's (the clustering stage reads them again with the
    article's embedding)."""

    article_id: int
    story_id: int
    score: float = 0.0
    reason: str = ""
    sections: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StoryStateRow:
    """The clusterer's persisted state of one story (opaque bytes) and its time span."""

    story_id: int
    state: bytes
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """Derived fields of a story, computed by the signal and brief stages."""

    story_id: int
    headline: str
    dek: str
    first_reported: datetime
    last_reported: datetime
    article_count: int
    outlet_count: int
    representative_article_id: int | None
    outlets: tuple[str, ...]
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    sections: tuple[str, ...]
    places: tuple[Place, ...]
    score: float
    score_explanation: str
    breaking_since: datetime | None
    breaking_until: datetime | None
    brief: Brief | None
    related: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """Filters for listing stories; the web layer clamps limit/offset before calling."""

    section: str | None = None
    geonameid: int | None = None
    country: str | None = None
    language: str | None = None
    since: datetime | None = None
    breaking_at: datetime | None = None  # only stories breaking at this time
    source_id: int | None = None
    min_outlets: int = 1
    order: Literal["score", "recent"] = "score"
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True)
class BriefVersion:
    version: int
    created_at: datetime
    article_count: int
    brief: Brief


@dataclass(frozen=True, slots=True)
class Trend:
    term: str
    score: float
    story_ids: tuple[int, ...]
    computed_at: datetime
    language: str = ""  # ISO 639-1 of the term's mentions ("": English)


@dataclass(frozen=True, slots=True)
class KnownImage:
    """What fetching one image URL gave: the two stored copies, or the refusal code."""

    url: str
    checked_at: datetime
    image_sha256: str | None = None
    thumb_sha256: str | None = None
    width: int = 0
    height: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    kind: str
    worker: str
    started_at: datetime
    finished_at: datetime | None
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


MAX_SEARCH_TERMS = 12
# A search's results: its newest matches, at most MAX_SEARCH_RESULTS, ranked window by
# window of SEARCH_WINDOW (store/search_rank.py); counts stop at MAX_SEARCH_RESULTS + 1.
MAX_SEARCH_RESULTS = 1000
SEARCH_WINDOW = 200


def search_terms(query: str) -> list[str]:
    """The terms a search query looks for, all of which must match: the alphanumeric runs
    of its words, lower-cased, at most `MAX_SEARCH_TERMS` (query syntax of either
    backend is never interpreted). The pages highlight the same terms."""
    out = []
    for raw in query[:500].split():
        term = "".join(ch for ch in raw if ch.isalnum())
        if term:
            out.append(term.lower())
    return out[:MAX_SEARCH_TERMS]


# -- protocols, one per consumer ---------------------------------------------------------
# Each method is declared in exactly one protocol; a consumer's parameter names the
# protocol (or the few) it needs, and `Store` is the union of them all.


class ReadStore(Protocol):
    """What readers use (the web layer, the story stage): stories, briefs, articles,
    trends, places, outlets and feeds, read-only."""

    def get_story(self, story_id: int) -> Story | None: ...
    def resolve_story_id(self, story_id: int) -> int | None:
        """Follow merges: the id readers should see for `story_id`."""
        ...

    def get_brief(self, story_id: int) -> Brief | None: ...
    def brief_versions(self, story_id: int) -> list[BriefVersion]: ...
    def list_stories(self, query: StoryQuery) -> list[Story]: ...
    def count_stories(self, query: StoryQuery) -> int: ...
    def story_articles(self, story_id: int, limit: int = 500) -> list[Article]: ...
    def get_article(self, article_id: int) -> Article | None: ...
    def list_articles(
        self, source_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[Article]: ...
    def search_stories(
        self, query: str, limit: int, offset: int = 0, language: str | None = None
    ) -> list[Story]:
        """Live stories matching every term of `query`: the newest matches (at most
        `MAX_SEARCH_RESULTS`), window by window of `SEARCH_WINDOW` newest first, each
        window best match first (relevance and recency, store/search_rank.py); past the
        last result, nothing. With `language`, only stories with a member in that
        language (as StoryQuery's)."""
        ...

    def count_search_stories(self, query: str, language: str | None = None) -> int:
        """How many live stories `search_stories` finds, counted up to
        `MAX_SEARCH_RESULTS + 1` (more than `MAX_SEARCH_RESULTS` reads "1,000+")."""
        ...

    def search_articles(
        self, query: str, limit: int, offset: int = 0, language: str | None = None
    ) -> list[Article]:
        """Articles matching every term of `query`, in the order `search_stories`
        describes; with `language`, in that language."""
        ...

    def count_search_articles(self, query: str, language: str | None = None) -> int:
        """How many articles `search_articles` finds, counted up to
        `MAX_SEARCH_RESULTS + 1`."""
        ...

    def get_trends(self, limit: int = 20) -> list[Trend]: ...
    def find_places(self, name: str, limit: int = 5) -> tuple[Place, ...]:
        """Places a reader may mean by `name` ("Vancouver", "Texas"), best first, each
        scored so a caller can tell a clear first choice from a close call (offline)."""
        ...

    def top_places(self, limit: int = 20, recent: int = 2000) -> list[tuple[Place, int]]:
        """Places the `recent` latest live stories are about, with story counts, most first."""
        ...

    def story_languages(self, limit: int = 50, recent: int = 2000) -> list[tuple[str, int]]:
        """Languages the `recent` latest live stories are reported in (ISO 639-1 codes of
        any member), with story counts, most first: the site's language chooser."""
        ...

    def last_change(self) -> datetime | None:
        """Time of the newest story update (for ETags and caches)."""
        ...

    def get_image(self, sha256: str) -> ImageFile | None:
        """A stored re-encoded image by the sha256 of its bytes (the /media route)."""
        ...

    def get_feed(self, feed_id: int) -> Feed | None: ...
    def list_feeds(
        self, status: FeedStatus | None = None, source_id: int | None = None
    ) -> list[Feed]: ...
    def list_outlets(self) -> list[Outlet]: ...
    def get_outlet(self, source_id: int) -> Outlet | None: ...


class SourceStore(ReadStore, Protocol):
    """Managing outlets and feeds (the `sources` commands, the feed API)."""

    def upsert_outlet(self, outlet: Outlet) -> int:
        """Insert or update an outlet by name; return its id. An existing outlet keeps
        what the update leaves blank, and always keeps its operator weight."""
        ...

    def add_feed(self, feed: Feed, url_key: str) -> tuple[Feed, bool]:
        """Add a feed (creating its outlet); return (feed, created). A duplicate
        `url_key` returns the existing feed with created=False."""
        ...

    def add_feeds(self, entries: Sequence[tuple[Feed, str, Outlet | None]]) -> int:
        """Add many (feed, url_key, outlet-or-None) in one transaction; return how many
        were new (duplicates are skipped)."""
        ...

    def remove_feed(self, url_key: str) -> bool: ...
    def set_feed_status(self, feed_id: int, status: FeedStatus) -> None: ...
    def set_outlet_weight(self, source_id: int, weight: float) -> bool:
        """Set the operator weight that ranking multiplies the outlet's reports by (1.0
        neutral); False when there is no outlet `source_id`. The caller validates it."""
        ...


class ArticleClaims(Protocol):
    """The articles' work queue: extraction claims 'discovered' ones, clustering
    'extracted' ones."""

    def claim_articles(
        self, state: ArticleState, worker: str, now: datetime, limit: int, lease_s: int
    ) -> list[Article]:
        """Lease up to `limit` articles in `state` that no live lease holds, oldest first."""
        ...


class CrawlStore(ArticleClaims, Protocol):
    """What ingest uses (polling, WebSub pushes, archive imports, extraction and the
    duplicate lookups): feeds to check and the articles they bring."""

    def claim_due_feeds(self, worker: str, now: datetime, limit: int, lease_s: int) -> list[Feed]:
        """Lease up to `limit` active feeds whose next check is due."""
        ...

    def save_feed_check(
        self, feed_id: int, update: FeedUpdate, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        """Commit new items and the feed's new state in one transaction; release the lease.
        Items already stored (same feed and item key) are skipped. Returns new article ids."""
        ...

    def save_pushed_articles(
        self, feed_id: int, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        """Store items a hub pushed for `feed_id` (skipping ones the feed already has),
        leaving the feed's schedule, validators and lease untouched. Returns new ids."""
        ...

    def save_archive_articles(
        self, outlet: Outlet, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        """Store articles that came from no feed (e.g. a WARC archive) under `outlet`;
        an article already stored for that outlet (same item key) is skipped."""
        ...

    def save_extracted(self, articles: Sequence[Article]) -> None:
        """Store extraction results (text, language, hashes, duplicate_of, sections,
        places, page kind) and move the articles to state 'extracted', releasing their leases."""
        ...

    def known_item_keys(self, feed_id: int, items: Sequence[tuple[str, str, str]]) -> set[str]:
        """Which of (item_key, alias_key, title) the feed already has: by item key, or by
        alias key plus title (the same item under a GUID that changed scheme or host)."""
        ...

    def recent_texts(self, since: datetime, limit: int) -> list[tuple[int, str, datetime]]:
        """(id, text, published) of recent original articles, for the near-duplicate index."""
        ...

    def find_by_content_hash(self, content_hash: str, exclude_id: int) -> int | None: ...
    def first_ids_by_content_hash(self, hashes: Sequence[str]) -> dict[str, tuple[int, ...]]:
        """For each hash, the two lowest ids of articles past discovery with that content
        hash (so a caller can skip its own id); hashes with none are left out."""
        ...


class WebSubStore(Protocol):
    """WebSub subscriptions (breakingon.pipeline.websub, the callback routes).
    Records: `WebSubSubscription` below."""

    def add_websub_subscription(
        self, feed_id: int, hub: str, topic: str, token: str, secret: str, now: datetime
    ) -> WebSubSubscription:
        """Record a subscription we are about to request (state 'pending', due at `now`)."""
        ...

    def get_websub_subscription(self, token: str) -> WebSubSubscription | None:
        """The subscription whose callback capability is `token`, or None."""
        ...

    def websub_subscriptions_for_feed(self, feed_id: int) -> list[WebSubSubscription]: ...

    def save_websub_subscription(self, sub: WebSubSubscription) -> WebSubSubscription | None:
        """Store `sub`'s state, lease_until, renew_at, last_error and updated_at, only if
        the row is still at `sub.version` (optimistic concurrency). Returns the saved
        subscription (version bumped), or None when the row changed or is gone."""
        ...

    def remove_websub_subscription(self, sub_id: int) -> None: ...

    def websub_subscriptions_due(self, now: datetime, limit: int) -> list[WebSubSubscription]:
        """Subscriptions whose `renew_at` has come, oldest first."""
        ...


class IngestStore(CrawlStore, WebSubStore, Protocol):
    """What the crawl stage needs: feeds and articles, and the WebSub subscriptions of
    the feeds it polls (breakingon.pipeline.poll)."""


class LeaseStore(Protocol):
    """Coordination between workers: named leases and small shared values (meta)."""

    def try_lease(self, name: str, worker: str, now: datetime, lease_s: int) -> tuple[bool, bool]:
        """Take or renew the named lease (e.g. the single clustering leader).
        Returns (held, fresh): fresh is True when it was not held by `worker` just before,
        so the caller must reload any state another worker may have changed."""
        ...

    def release_lease(self, name: str, worker: str) -> None: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...


class ClusterStore(ArticleClaims, LeaseStore, ReadStore, Protocol):
    """What the clustering stage uses: story ids, the clusterer's persisted working set,
    and fenced commits of its decisions (and feeds' sections, read)."""

    def new_story_id(self, now: datetime) -> int: ...

    def save_clustering(
        self,
        memberships: Sequence[Membership],
        states: Sequence[StoryStateRow],
        merges: Sequence[tuple[int, int]],
        now: datetime,
        members: Sequence[tuple[int, bytes]] = (),
        lease: tuple[str, str] | None = None,
        meta: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """Assign articles to stories, store the clusterer's story states and the
        per-article member states, apply merges (from_id -> into_id), mark the touched
        stories dirty, set the `meta` (key, value) pairs (the clusterer's set-wide
        state; a value of None deletes the key), in order: one transaction. Story rows
        are created here, never before. With `lease` (name, worker), the commit
        happens only if `worker` still holds that lease (else LeaseLost)."""
        ...

    def load_cluster_members(self, article_ids: Sequence[int]) -> list[tuple[int, bytes]]: ...
    def load_story_states(self, since: datetime) -> list[tuple[int, bytes]]: ...


class StoryStore(ReadStore, Protocol):
    """What the story and trend stages use: dirty stories to update and their results."""

    def claim_dirty_stories(
        self, worker: str, now: datetime, limit: int, lease_s: int
    ) -> list[int]: ...
    def recent_articles(self, since: datetime, limit: int) -> list[Article]: ...
    def mark_stories_dirty(self, story_ids: Sequence[int]) -> None:
        """Mark these stories to be updated again (the story stage's deferred briefs);
        a merged-away story is left alone, a claimed one is updated again after its save."""
        ...

    def save_story(self, update: StoryUpdate, now: datetime, worker: str | None = None) -> bool:
        """Store derived fields, keep a brief version when the brief changed, clear dirty.

        With `worker`, the save applies only while that worker still holds the story's
        claim: when its lease ran out during a slow update and another worker took the
        story, the other's (fresher) result wins and this one is dropped. False when
        nothing was saved (the story is gone, merged away, or claimed by another)."""
        ...

    def save_trends(self, trends: Sequence[Trend]) -> None: ...


class ImageStore(Protocol):
    """What the image stage uses (breakingon.pipeline.image_stage): stories whose lead
    image is due, their members' image URLs, and the fetched copies."""

    def stories_needing_image(self, limit: int) -> list[Story]:
        """Live stories updated since their lead image was last chosen (or never
        chosen), highest score first."""
        ...

    def story_image_candidates(self, story_id: int) -> list[ImageCandidate]:
        """The image URLs of the story's member articles (members without one are left
        out), with outlet, time and whether the member is a syndicated copy."""
        ...

    def known_image(self, url: str) -> KnownImage | None:
        """What the last fetch of image `url` gave, or None if it was never fetched."""
        ...

    def save_image(
        self, url: str, outlet: str, lead: ImageFile, thumb: ImageFile, now: datetime
    ) -> None:
        """Store both copies (content-addressed: an existing sha256 is kept) and that
        `url` gave them, in one transaction."""
        ...

    def save_image_failure(self, url: str, error: str, now: datetime) -> None:
        """Remember that fetching or checking image `url` failed with `error`."""
        ...

    def set_story_image(
        self, story_id: int, image: StoryImage | None, checked_for: datetime | None, now: datetime
    ) -> None:
        """Set (or clear, with None) the story's lead image, chosen for the story as it
        was at `checked_for` (its `updated_at` then). A changed image bumps
        `updated_at` (caches see it); a story changed meanwhile stays due."""
        ...


class OpsStore(LeaseStore, Protocol):
    """What operations use (retention, metrics, health, the status page): counts,
    backlog, runs and pruning."""

    def stats(self) -> dict[str, int]: ...
    def backlog(self) -> dict[str, int]:
        """Work waiting by kind: every kind of `BACKLOG_KINDS`, 0 when empty."""
        ...

    def feed_fetch_times(self) -> tuple[int, datetime | None, datetime | None]:
        """(feeds, the latest check of any feed, the latest successful fetch of any
        feed): /healthz tells a dead network from a quiet one with it."""
        ...

    def start_run(self, kind: str, worker: str, now: datetime) -> int: ...
    def finish_run(
        self, run_id: int, now: datetime, stats: dict[str, Any], error: str | None = None
    ) -> None: ...
    def update_run(self, run_id: int, stats: dict[str, Any]) -> None:
        """Record a run's counters so far; it stays unfinished."""
        ...

    def recent_runs(self, limit: int = 20) -> list[Run]: ...
    def prune(self, cutoff: datetime, batch: int = 500) -> int:
        """Delete articles older than `cutoff` that no live story cites (bounded
        batches), then the stored images and image-URL results no story uses."""
        ...


class WebStore(SourceStore, OpsStore, UserStore, ReaderStore, AlertStore, Protocol):
    """What the web layer uses: reads, feed management, the status counts and the
    readers' own data (follows, alert rules, push subscriptions)."""


class Store(
    SourceStore,
    IngestStore,
    ClusterStore,
    StoryStore,
    ImageStore,
    OpsStore,
    UserStore,
    ReaderStore,
    AlertStore,
    Protocol,
):
    """The whole storage contract: the union of the protocols above. Every method is
    safe to call from any worker."""

    def close(self) -> None: ...


# -- websub ---------------------------------------------------------------------------
WebSubState = Literal["pending", "active", "unsubscribing", "expired"]


@dataclass(frozen=True, slots=True)
class WebSubSubscription:
    """One WebSub subscription of a feed at a hub (a row of `websub`).

    pending: subscribe requested, not yet verified by the hub; active: verified, content
    accepted until `lease_until`; unsubscribing: we asked the hub to stop (after a hub
    switch); expired: the lease ended or the hub denied it. `renew_at` is when the next
    (re-)subscribe request is due.
    """

    id: int
    feed_id: int
    hub: str
    topic: str
    token: str
    secret: str
    state: WebSubState
    created_at: datetime
    updated_at: datetime
    lease_until: datetime | None = None
    renew_at: datetime | None = None
    last_error: str | None = None
    version: int = 0  # bumped by every save (optimistic concurrency)
