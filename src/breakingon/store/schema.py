"""The store's tables as the migrations create them, in SQLAlchemy Core.

`SQLStore` builds every query on these definitions; it never reflects tables from the
live database. A migration that changes the schema changes this module in the same
commit, and `tests/store/test_schema.py` checks, on freshly migrated SQLite and
PostgreSQL databases, that the two agree (tables, columns, types, nullability).

`metadata` holds the tables at `LATEST`, the newest revision described here; the test
fails when a new migration lands without its description here.

Not described here, on purpose: the full-text search index, which revisions 0001 and
0009 make in each dialect's own way and the store queries with raw SQL. On SQLite those
are the FTS5 virtual tables `articles_fts` (title, text, language) and `stories_fts`
(headline, dek, languages), with their shadow tables and the triggers that keep them
current; on PostgreSQL the generated `tsv` columns of `articles` and `stories` and the
GIN indexes over them and the languages (`sql_search.PG_ARTICLE_LANGS`).
`SEARCH_TABLES` and `SEARCH_COLUMNS` name them.
"""

from __future__ import annotations

import sqlalchemy as sa

LATEST = "0009"  # the newest migration revision this module describes

SEARCH_TABLES = ("articles_fts", "stories_fts")  # SQLite only, with their shadow tables
SEARCH_COLUMNS = (("articles", "tsv"), ("stories", "tsv"))  # PostgreSQL only

TS = sa.DateTime(timezone=True)


def _lease() -> list[sa.Column[object]]:
    return [sa.Column("lease_owner", sa.Text), sa.Column("lease_until", TS)]


def _define(md: sa.MetaData) -> None:
    """Add the tables as the migrations up to `LATEST` leave them to `md`."""
    # -- revision 0001 ---------------------------------------------------------------
    sa.Table(
        "sources",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("homepage", sa.Text, nullable=False, server_default=""),
        sa.Column("country", sa.Text, nullable=False, server_default=""),
        sa.Column("language", sa.Text, nullable=False, server_default=""),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.Text, nullable=False, server_default=""),
        sa.Column("ownership", sa.Text, nullable=False, server_default=""),
        sa.Column("weight", sa.Float, nullable=False, server_default="1.0"),
        sa.Column("created_at", TS, nullable=False),
    )
    sa.Table(
        "feeds",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("url_key", sa.Text, nullable=False, unique=True),
        sa.Column("sections", sa.Text, nullable=False, server_default="[]"),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("country", sa.Text, nullable=False, server_default=""),
        sa.Column("language", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("body_hash", sa.Text),
        sa.Column("next_check_at", TS),
        sa.Column("last_checked_at", TS),
        sa.Column("last_success_at", TS),
        sa.Column("interval_s", sa.Integer, nullable=False, server_default="900"),
        sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("redirect_to", sa.Text),
        sa.Column("redirect_seen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fetch_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        *_lease(),
        sa.Index("ix_feeds_due", "status", "next_check_at"),
    )
    # revision 0004: the non-article kind of the page ("" for a news report)
    page_kind = [sa.Column("page_kind", sa.Text, nullable=False, server_default="")]
    sa.Table(
        "articles",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="SET NULL")),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="SET NULL")),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("alias_key", sa.Text, nullable=False, server_default=""),
        sa.Column("url", sa.Text, nullable=False, server_default=""),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("authors", sa.Text, nullable=False, server_default="[]"),
        sa.Column("published", TS, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("language", sa.Text, nullable=False, server_default=""),
        sa.Column("image", sa.Text, nullable=False, server_default=""),
        sa.Column("content_hash", sa.Text, nullable=False, server_default=""),
        sa.Column("simhash", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("duplicate_of", sa.Integer),
        sa.Column("extraction", sa.Text, nullable=False, server_default=""),
        sa.Column("sections", sa.Text, nullable=False, server_default="[]"),
        sa.Column("places", sa.Text, nullable=False, server_default="[]"),
        sa.Column("state", sa.Text, nullable=False, server_default="discovered"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("story_id", sa.Integer),
        sa.Column("updated_at", TS, nullable=False),
        *_lease(),
        # revision 0002: the clusterer's per-article member state (opaque bytes)
        sa.Column("cluster_member", sa.LargeBinary),
        *page_kind,
        sa.UniqueConstraint("feed_id", "item_key", name="uq_articles_feed_item"),
        sa.Index("ix_articles_state", "state", "id"),
        sa.Index("ix_articles_story", "story_id"),
        sa.Index("ix_articles_hash", "content_hash"),
        sa.Index("ix_articles_published", "published"),
        sa.Index("ix_articles_source", "source_id", "published"),
        sa.Index("ix_articles_alias", "feed_id", "alias_key"),  # revision 0002
    )
    sa.Table(
        "stories",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("headline", sa.Text, nullable=False, server_default=""),
        sa.Column("dek", sa.Text, nullable=False, server_default=""),
        sa.Column("first_reported", TS, nullable=False),
        sa.Column("last_reported", TS, nullable=False),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outlet_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("representative_article_id", sa.Integer),
        sa.Column("outlets", sa.Text, nullable=False, server_default="[]"),
        sa.Column("countries", sa.Text, nullable=False, server_default="[]"),
        sa.Column("languages", sa.Text, nullable=False, server_default="[]"),
        sa.Column("sections", sa.Text, nullable=False, server_default="[]"),
        sa.Column("places", sa.Text, nullable=False, server_default="[]"),
        sa.Column("related", sa.Text, nullable=False, server_default="[]"),
        sa.Column("score", sa.Float, nullable=False, server_default="0"),
        sa.Column("score_explanation", sa.Text, nullable=False, server_default=""),
        sa.Column("breaking_since", TS),
        sa.Column("breaking_until", TS),
        sa.Column("brief", sa.Text),
        sa.Column("brief_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("merged_into", sa.Integer),
        sa.Column("dirty", sa.Integer, nullable=False, server_default="1"),
        sa.Column("cluster_state", sa.LargeBinary),
        sa.Column("updated_at", TS, nullable=False),
        *_lease(),
        # revision 0005: the lead image
        sa.Column("image_sha256", sa.Text),
        sa.Column("image_thumb", sa.Text),
        sa.Column("image_width", sa.Integer, nullable=False, server_default="0"),
        sa.Column("image_height", sa.Integer, nullable=False, server_default="0"),
        sa.Column("image_credit", sa.Text, nullable=False, server_default=""),
        sa.Column("image_source", sa.Text, nullable=False, server_default=""),
        sa.Column("image_checked_at", TS),
        sa.Index("ix_stories_score", "score"),
        sa.Index("ix_stories_last", "last_reported"),
        sa.Index("ix_stories_dirty", "dirty", "id"),
        sa.Index("ix_stories_updated", "updated_at"),  # revision 0002
        sa.Index("ix_stories_breaking", "breaking_until"),  # revision 0002
    )
    sa.Table(
        "story_members",
        md,
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("score", sa.Float, nullable=False, server_default="0"),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Index("ix_members_story", "story_id"),
    )
    sa.Table(
        "story_sections",
        md,
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("section", sa.Text, primary_key=True),
        sa.Index("ix_story_sections", "section", "story_id"),
    )
    sa.Table(
        "story_places",
        md,
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("geonameid", sa.Integer, primary_key=True),
        sa.Column("country", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False, server_default=""),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Index("ix_story_places_geo", "geonameid"),
        sa.Index("ix_story_places_country", "country"),
    )
    sa.Table(
        "story_versions",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("brief", sa.Text, nullable=False),
        sa.UniqueConstraint("story_id", "version", name="uq_story_versions"),
    )
    sa.Table(
        "trends",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("story_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("computed_at", TS, nullable=False),
        # revision 0006: the language its mentions are in ("": English)
        sa.Column("language", sa.Text, nullable=False, server_default=""),
    )
    sa.Table(
        "runs",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("worker", sa.Text, nullable=False, server_default=""),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("stats", sa.Text, nullable=False, server_default="{}"),
        sa.Column("error", sa.Text),
        sa.Index("ix_runs_kind", "kind", "started_at"),
    )
    sa.Table(
        "meta",
        md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    # -- revision 0002: named leases (e.g. the single clustering leader) ---------------
    sa.Table(
        "leases",
        md,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("until", TS, nullable=False),
    )
    # -- revision 0003: WebSub subscriptions -------------------------------------------
    sa.Table(
        "websub",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("lease_until", TS),
        sa.Column("renew_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("token", name="uq_websub_token"),
        sa.Index("ix_websub_feed", "feed_id"),
        sa.Index("ix_websub_renew", "state", "renew_at"),
    )
    # -- revision 0005: lead images (re-encoded copies, what each source URL gave) ------
    sa.Table(
        "images",
        md,
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("mime", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("source_url", sa.Text, nullable=False, server_default=""),
        sa.Column("outlet", sa.Text, nullable=False, server_default=""),
        sa.Column("fetched_at", TS, nullable=False),
    )
    sa.Table(
        "image_sources",
        md,
        sa.Column("url_hash", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("image_sha256", sa.Text),
        sa.Column("thumb_sha256", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("checked_at", TS, nullable=False),
    )

    # -- revision 0006: readers' accounts, the streams they follow, their item states ---
    sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("api_token_hash", sa.Text),
        sa.Column("fever_key_hash", sa.Text),
        sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.Index("ix_users_token", "api_token_hash", unique=True),
        sa.Index("ix_users_fever", "fever_key_hash"),
    )
    sa.Table(
        "user_follows",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS),
        sa.UniqueConstraint("user_id", "kind", "value", name="uq_user_follows"),
    )
    sa.Table(
        "user_item_state",
        md,
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("read_at", TS),
        sa.Column("starred_at", TS),
        sa.Index("ix_user_item_story", "story_id"),
    )

    # -- revision 0007: alert rules, mutes, Web Push subscriptions, the delivery outbox --
    def user_fk() -> sa.Column[int]:
        return sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        )

    sa.Table(
        "alert_rules",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        user_fk(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=""),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False, server_default="{}"),
        sa.Column("digest", sa.Text, nullable=False, server_default=""),
        sa.Column("muted_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Index("ix_alert_rules_user", "user_id"),
    )
    sa.Table(
        "alert_mutes",
        md,
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("muted_until", TS, nullable=False),
    )
    sa.Table(
        "push_subscriptions",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        user_fk(),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.Text, nullable=False),
        sa.Column("auth", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("endpoint", name="uq_push_endpoint"),
        sa.Index("ix_push_user", "user_id"),
    )
    sa.Table(
        "alert_deliveries",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "rule_id",
            sa.Integer,
            sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("story_id", sa.Integer),
        sa.Column("event_key", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False, server_default="{}"),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS, nullable=False),
        *_lease(),
        sa.Column("last_error", sa.Text),
        sa.Column("event_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("rule_id", "event_key", name="uq_alert_deliveries_event"),
        sa.Index("ix_alert_deliveries_due", "state", "next_attempt_at"),
        sa.Index("ix_alert_deliveries_user", "user_id", "id"),
    )


metadata = sa.MetaData()
_define(metadata)

sources = metadata.tables["sources"]
feeds = metadata.tables["feeds"]
articles = metadata.tables["articles"]
stories = metadata.tables["stories"]
story_members = metadata.tables["story_members"]
story_sections = metadata.tables["story_sections"]
story_places = metadata.tables["story_places"]
story_versions = metadata.tables["story_versions"]
trends = metadata.tables["trends"]
runs = metadata.tables["runs"]
meta = metadata.tables["meta"]
leases = metadata.tables["leases"]
websub = metadata.tables["websub"]
images = metadata.tables["images"]
image_sources = metadata.tables["image_sources"]
users = metadata.tables["users"]
user_follows = metadata.tables["user_follows"]
user_item_state = metadata.tables["user_item_state"]
alert_rules = metadata.tables["alert_rules"]
alert_mutes = metadata.tables["alert_mutes"]
push_subscriptions = metadata.tables["push_subscriptions"]
alert_deliveries = metadata.tables["alert_deliveries"]
