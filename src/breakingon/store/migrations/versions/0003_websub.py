"""WebSub subscriptions: one row per (feed, hub) subscription we asked a hub for.

`token` is the unguessable capability in the callback URL (/websub/<token>); `secret`
signs the content the hub pushes (X-Hub-Signature). `renew_at` is when the subscriber
next sends a (re-)subscribe request: shortly before `lease_until` for an active
subscription, after a backoff for one whose request failed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "websub",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        # pending | active | unsubscribing | expired
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("renew_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        # Optimistic concurrency: every save bumps it; a stale save changes nothing.
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token", name="uq_websub_token"),
    )
    op.create_index("ix_websub_feed", "websub", ["feed_id"])
    op.create_index("ix_websub_renew", "websub", ["state", "renew_at"])


def downgrade() -> None:
    op.drop_table("websub")
