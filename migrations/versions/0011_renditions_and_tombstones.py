"""The rendition ladder's lifecycle on each video, its renditions, and tombstones of deleted videos.

``videos.processing_status`` is ``processing`` until the ladder is made (``ready``) or
cannot be (``failed``, with ``processing_error`` saying why). Videos already in the
library start ``processing`` with no ladder requested: the media sweep queues them (the
backfill), a batch at a time, so it resumes wherever it stopped.

``ladder_token`` names the current attempt (its files live under
``renditions/<video id>/<token>/`` and a MediaConvert job uses it as its request token);
``ladder_claimed_at`` is the lease that keeps a re-delivered message from making a second
ladder; ``ladder_plan`` holds the rungs being made.

``video_tombstones`` remembers deleted videos, so that no late upload notification,
retry or transcode result brings one back, and which of their media is still to purge.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("videos", sa.Column("processing_status", sa.Text(), nullable=False, server_default="processing"))
    op.create_check_constraint(
        "videos_processing_status_check", "videos", "processing_status IN ('processing', 'ready', 'failed')"
    )
    op.add_column("videos", sa.Column("processing_error", sa.Text()))
    op.add_column("videos", sa.Column("processed_at", TIMESTAMPTZ))
    op.add_column("videos", sa.Column("ladder_requested_at", TIMESTAMPTZ))
    op.add_column("videos", sa.Column("ladder_token", sa.Text()))
    op.add_column("videos", sa.Column("ladder_claimed_at", TIMESTAMPTZ))
    op.add_column("videos", sa.Column("ladder_job_id", sa.Text()))
    op.add_column("videos", sa.Column("ladder_plan", postgresql.JSONB()))
    # The sweep's work list: videos still waiting for a ladder, never-requested ones first.
    op.create_index(
        "videos_processing_idx",
        "videos",
        ["ladder_requested_at", "id"],
        postgresql_where=sa.text("processing_status = 'processing'"),
    )
    op.create_table(
        "video_renditions",
        sa.Column("video_id", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("codecs", sa.Text(), nullable=False),
        sa.Column("frame_rate", sa.Numeric(7, 3)),
        sa.Column("bandwidth", sa.Integer(), nullable=False),
        sa.Column("average_bandwidth", sa.Integer()),
        sa.Column("media_prefix", sa.Text(), nullable=False),
        sa.Column("playlist", sa.Text(), nullable=False),
    )
    op.create_table(
        "video_tombstones",
        sa.Column("video_id", sa.Integer(), primary_key=True),
        sa.Column("filename", sa.Text(), nullable=False, unique=True),
        sa.Column("thumbnail_key", sa.Text()),
        sa.Column("deleted_at", TIMESTAMPTZ, nullable=False, server_default=sa.func.now()),
        sa.Column("purged_at", TIMESTAMPTZ),
    )
    op.create_index(
        "video_tombstones_unpurged_idx",
        "video_tombstones",
        ["deleted_at"],
        postgresql_where=sa.text("purged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("video_tombstones")
    op.drop_table("video_renditions")
    op.drop_index("videos_processing_idx", table_name="videos")
    for column in (
        "ladder_plan",
        "ladder_job_id",
        "ladder_claimed_at",
        "ladder_token",
        "ladder_requested_at",
        "processed_at",
        "processing_error",
    ):
        op.drop_column("videos", column)
    op.drop_constraint("videos_processing_status_check", "videos")
    op.drop_column("videos", "processing_status")
