"""Articles record their page kind: "" for a news report, else the non-article kind.

Set once at ingest (poll, push and archive alike) by `tag.facts.article_facts`, from the
article's final title and text (`extract.pagekind.non_article_kind`), so later stages
read it instead of classifying the text again. Rows stored before this revision read ''.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("page_kind", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("page_kind")
