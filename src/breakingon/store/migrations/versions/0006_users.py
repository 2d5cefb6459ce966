"""Readers' accounts: users, the streams each follows, and each user's item states.

`users` holds a reader's name, the argon2 hash of the password, the sha256 of the
per-user API token (`breakingon users token`) and of the Fever API key, and whether the
account is disabled. `user_follows` holds the streams a user follows (top stories,
breaking, a section, place, outlet, saved search or story): they are the user's Google
Reader and Fever subscriptions and the site's follows, with the last visit for "new
since". `user_item_state` holds when the user read or starred (saved) a story. Deleting
a user deletes their follows and states.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("api_token_hash", sa.Text),
        sa.Column("fever_key_hash", sa.Text),
        sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_index("ix_users_token", "users", ["api_token_hash"], unique=True)
    op.create_index("ix_users_fever", "users", ["fever_key_hash"])
    op.create_table(
        "user_follows",
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
    op.create_table(
        "user_item_state",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("read_at", TS),
        sa.Column("starred_at", TS),
    )
    op.create_index("ix_user_item_story", "user_item_state", ["story_id"])


def downgrade() -> None:
    op.drop_table("user_item_state")
    op.drop_table("user_follows")
    op.drop_index("ix_users_fever", "users")
    op.drop_index("ix_users_token", "users")
    op.drop_table("users")
