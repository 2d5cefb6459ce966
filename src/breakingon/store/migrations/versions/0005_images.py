"""Lead images: the re-encoded copies the site serves, what each source URL gave, and
each story's lead image.

`images` holds the bytes we made (never an outlet's), addressed by the sha256 of those
bytes: the story-size copy and the thumbnail are two rows. `image_sources` remembers
what fetching one image URL gave (the two copies, or the refusal code), keyed by the
sha256 of the URL, so a URL shared by several stories is fetched once and a broken one
is not fetched again at every story update. A story names its lead image in
`image_sha256` / `image_thumb` with the size and the credited outlet, so lists render
without a join; `image_checked_at` says for which story update the image was chosen.
Stories stored before this revision have no image (NULL) and are checked again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("mime", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("source_url", sa.Text, nullable=False, server_default=""),
        sa.Column("outlet", sa.Text, nullable=False, server_default=""),
        sa.Column("fetched_at", TS, nullable=False),
    )
    op.create_table(
        "image_sources",
        sa.Column("url_hash", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("image_sha256", sa.Text),
        sa.Column("thumb_sha256", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("checked_at", TS, nullable=False),
    )
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("image_sha256", sa.Text))
        batch.add_column(sa.Column("image_thumb", sa.Text))
        batch.add_column(sa.Column("image_width", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("image_height", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("image_credit", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("image_source", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("image_checked_at", TS))


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        for name in (
            "image_checked_at",
            "image_source",
            "image_credit",
            "image_height",
            "image_width",
            "image_thumb",
            "image_sha256",
        ):
            batch.drop_column(name)
    op.drop_table("image_sources")
    op.drop_table("images")
