"""Clusterer working-set persistence and named leases.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("cluster_member", sa.LargeBinary))
    op.create_index("ix_articles_alias", "articles", ["feed_id", "alias_key"])
    # what the web layer asks most: the newest change (cache validators), breaking now
    op.create_index("ix_stories_updated", "stories", ["updated_at"])
    op.create_index("ix_stories_breaking", "stories", ["breaking_until"])
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
