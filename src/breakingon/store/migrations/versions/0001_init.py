"""Initial schema: sources, feeds, articles, stories, membership, briefs, trends, runs.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

TS = sa.DateTime(timezone=True)


def _lease() -> list[sa.Column[object]]:
    return [sa.Column("lease_owner", sa.Text), sa.Column("lease_until", TS)]


def upgrade() -> None:
    op.create_table(
        "sources",
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
    op.create_table(
        "feeds",
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
    )
    op.create_index("ix_feeds_due", "feeds", ["status", "next_check_at"])
    op.create_table(
        "articles",
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
        sa.UniqueConstraint("feed_id", "item_key", name="uq_articles_feed_item"),
    )
    op.create_index("ix_articles_state", "articles", ["state", "id"])
    op.create_index("ix_articles_story", "articles", ["story_id"])
    op.create_index("ix_articles_hash", "articles", ["content_hash"])
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_index("ix_articles_source", "articles", ["source_id", "published"])
    op.create_table(
        "stories",
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
    )
    op.create_index("ix_stories_score", "stories", ["score"])
    op.create_index("ix_stories_last", "stories", ["last_reported"])
    op.create_index("ix_stories_dirty", "stories", ["dirty", "id"])
    op.create_table(
        "story_members",
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
    )
    op.create_index("ix_members_story", "story_members", ["story_id"])
    op.create_table(
        "story_sections",
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("section", sa.Text, primary_key=True),
    )
    op.create_index("ix_story_sections", "story_sections", ["section", "story_id"])
    op.create_table(
        "story_places",
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("geonameid", sa.Integer, primary_key=True),
        sa.Column("country", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False, server_default=""),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_story_places_geo", "story_places", ["geonameid"])
    op.create_index("ix_story_places_country", "story_places", ["country"])
    op.create_table(
        "story_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("brief", sa.Text, nullable=False),
        sa.UniqueConstraint("story_id", "version", name="uq_story_versions"),
    )
    op.create_table(
        "trends",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("story_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("computed_at", TS, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("worker", sa.Text, nullable=False, server_default=""),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("stats", sa.Text, nullable=False, server_default="{}"),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_runs_kind", "runs", ["kind", "started_at"])
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table, cols in (("articles", "title, text"), ("stories", "headline, dek")):
            op.execute(
                f"CREATE VIRTUAL TABLE {table}_fts USING fts5({cols}, content='{table}', "
                f"content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
            )
            new = ", ".join(f"new.{c.strip()}" for c in cols.split(","))
            old = ", ".join(f"old.{c.strip()}" for c in cols.split(","))
            op.execute(
                f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN "
                f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, {new}); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
                f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) "
                f"VALUES ('delete', old.id, {old}); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
                f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) "
                f"VALUES ('delete', old.id, {old}); "
                f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, {new}); END"
            )
    else:
        op.execute(
            "ALTER TABLE articles ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(text, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_articles_tsv ON articles USING gin(tsv)")
        op.execute(
            "ALTER TABLE stories ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(headline, '') || ' ' || coalesce(dek, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_stories_tsv ON stories USING gin(tsv)")
