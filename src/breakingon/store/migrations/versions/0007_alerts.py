"""Alerts: readers' alert rules, their mutes, Web Push subscriptions and the outbox.

`alert_rules` holds what a reader watches (kind, target) and where it is sent (channel,
its JSON config, the digest period for email) and until when the rule is muted;
`alert_mutes` a reader's mute of every rule. `push_subscriptions` holds the browsers'
Web Push subscriptions (endpoint and keys). `alert_deliveries` is the outbox: one row
per (rule, event key), UNIQUE, so an event is queued once, with its state (pending,
sending, sent, failed, unknown, muted), attempts, the next attempt's time, the lease of
the worker sending it, the last error and when it was sent. Deleting a user deletes
their rules, mutes and subscriptions; deleting a rule deletes its deliveries.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

TS = sa.DateTime(timezone=True)


def _user_fk() -> sa.Column[int]:
    return sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        _user_fk(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=""),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False, server_default="{}"),
        sa.Column("digest", sa.Text, nullable=False, server_default=""),
        sa.Column("muted_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Index("ix_alert_rules_user", "user_id"),
    )
    op.create_table(
        "alert_mutes",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("muted_until", TS, nullable=False),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        _user_fk(),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.Text, nullable=False),
        sa.Column("auth", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("endpoint", name="uq_push_endpoint"),
        sa.Index("ix_push_user", "user_id"),
    )
    op.create_table(
        "alert_deliveries",
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
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("event_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("rule_id", "event_key", name="uq_alert_deliveries_event"),
        sa.Index("ix_alert_deliveries_due", "state", "next_attempt_at"),
        sa.Index("ix_alert_deliveries_user", "user_id", "id"),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("push_subscriptions")
    op.drop_table("alert_mutes")
    op.drop_table("alert_rules")
