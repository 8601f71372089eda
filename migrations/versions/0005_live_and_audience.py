"""Live viewers, peaks per minute and audience retention.

Each view keeps its last position sample and a bitmap of the hundredths of the video it
played (``chalicelib/domain/audience.py``); hours and days keep their peak of concurrent viewers;
``analytics_audience_days`` holds, per video and UTC day, how many views played each
hundredth. All new view columns are nullable without a default, so adding them rewrites
nothing on a table of millions of rows: a view without a sample counts as at 0 at its start.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("video_views", sa.Column("last_seen_at", sa.DateTime(timezone=True)))
    op.add_column("video_views", sa.Column("last_position", sa.Numeric(10, 2)))
    op.add_column("video_views", sa.Column("last_position_at", sa.DateTime(timezone=True)))
    op.add_column("video_views", sa.Column("played", postgresql.BIT(100)))
    op.add_column("video_views", sa.Column("played_folded", postgresql.BIT(100)))
    for table in ("analytics_hours", "analytics_days"):
        op.add_column(table, sa.Column("peak_viewers", sa.Integer, server_default="0", nullable=False))
    op.create_table(
        "analytics_audience_days",
        sa.Column("video_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        sa.Column("counts", postgresql.ARRAY(sa.Integer), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analytics_audience_days")
    for table in ("analytics_hours", "analytics_days"):
        op.drop_column(table, "peak_viewers")
    for column in ("played_folded", "played", "last_position_at", "last_position", "last_seen_at"):
        op.drop_column("video_views", column)
