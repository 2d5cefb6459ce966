"""The language of a trend: a term bursts within one language (docs/signals.md,
"Languages"), so the trend bar can say when a term is not in the site's language.
Trends stored before this revision are English ("" reads as English; they are written
again within minutes anyway).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("trends") as batch:
        batch.add_column(sa.Column("language", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("trends") as batch:
        batch.drop_column("language")
