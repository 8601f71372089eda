"""Thumbnails made at ingest, and a record of uploads that could not be ingested.

* ``videos.thumbnail_key``: the poster frame the thumbnail function stored in the
  media bucket (``thumbnails/...jpg``). ``thumbnail_url`` stays what an admin set (an
  external image, shown as given); answers sign ``thumbnail_key`` when it is unset.
* ``ingest_failures``: key, reason and time of every upload the ingest refused (not a
  video, unreadable, too long to probe); its object is deleted, the row stays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("thumbnail_key", sa.Text))
    op.create_table(
        "ingest_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ingest_failures_failed_at_idx", "ingest_failures", [sa.text("failed_at DESC"), sa.text("id DESC")])


def downgrade() -> None:
    op.drop_table("ingest_failures")
    op.drop_column("videos", "thumbnail_key")
