"""All-time viewer sketches per dimension value: a breakdown of unique viewers over all time merges one
sketch per value instead of one per value and day.

``analytics_breakdown_totals`` holds, per scope (a video, 0 for the library), dimension, team flag and
value, the HyperLogLog sketch of every viewer folded so far; the refresh merges each folded day's
sketches into it (merging a viewer twice changes nothing, so refolding is safe). It starts empty and is
filled by the backfill of migration 0013, restarted here from the oldest raw view when there is history.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_breakdown_totals",
        sa.Column("scope_id", sa.Integer, primary_key=True),
        sa.Column("dimension", sa.Text, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        sa.Column("value", sa.Text, primary_key=True),
        sa.Column("sketch", sa.LargeBinary, nullable=False),
    )
    op.execute(
        "INSERT INTO analytics_state (name, at) "
        "SELECT 'breakdowns_backfill', date_trunc('hour', min(created_at), 'UTC') FROM video_views "
        "HAVING min(created_at) IS NOT NULL AND EXISTS (SELECT 1 FROM analytics_state WHERE name = 'folded_until') "
        "ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at"
    )


def downgrade() -> None:
    op.drop_table("analytics_breakdown_totals")
