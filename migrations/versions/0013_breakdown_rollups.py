"""Breakdowns and quality of experience at constant cost: roll-ups of the registry's measures.

``analytics_breakdown_days`` holds, per scope (a video, 0 for the library), UTC day, team
flag, dimension and value, the additive measures of ``chalicelib/domain/metrics.py`` and,
for a dimension's value, a HyperLogLog sketch of its viewers; dimension ``''`` (value ``''``)
is the scope's views as a whole. ``analytics_measure_hours`` holds a scope's measures per
UTC hour (points of reports in other zones, or by hour). Dimensions are rows, not columns,
so a new dimension needs no change here; a new measure is a column added by a migration.

The columns below are this revision's copy of the registry's measures (a later registry
must not change what this migration creates). Both tables start empty: the refresh fills
them from the raw rows kept, a day of history per step until it reaches the watermark.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import math

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
_BOUNDS = tuple(round(100 * 1.2**k) for k in range(int(math.log(600) / math.log(1.2)) + 1))
MEASURES = (
    ("views", sa.Integer),
    ("watch_time_seconds", sa.BigInteger),
    ("completed_views", sa.Integer),
    ("plays", sa.Integer),
    ("played_seconds", sa.BigInteger),
    ("rebuffers", sa.BigInteger),
    ("rebuffer_ms", sa.BigInteger),
    ("failures", sa.Integer),
    ("exits_before_start", sa.Integer),
    *[(f"startup_lt_{bound}", sa.Integer) for bound in _BOUNDS],
    (f"startup_ge_{_BOUNDS[-1]}", sa.Integer),
)


def _measures() -> list[sa.Column]:
    return [sa.Column(name, kind, server_default="0", nullable=False) for name, kind in MEASURES]


def upgrade() -> None:
    op.create_table(
        "analytics_measure_hours",
        sa.Column("scope_id", sa.Integer, primary_key=True),
        sa.Column("hour", TIMESTAMPTZ, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        *_measures(),
    )
    op.create_index("analytics_measure_hours_hour_idx", "analytics_measure_hours", ["hour"])
    op.create_table(
        "analytics_breakdown_days",
        sa.Column("scope_id", sa.Integer, primary_key=True),
        sa.Column("dimension", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        sa.Column("value", sa.Text, primary_key=True),
        *_measures(),
        sa.Column("sketch", sa.LargeBinary),
    )
    op.create_index("analytics_breakdown_days_day_idx", "analytics_breakdown_days", ["day"])
    # Raw rows already folded elsewhere are folded here by the next refreshes, a day per step from the oldest.
    op.execute(
        "INSERT INTO analytics_state (name, at) "
        "SELECT 'breakdowns_backfill', date_trunc('hour', min(created_at), 'UTC') FROM video_views "
        "HAVING min(created_at) IS NOT NULL AND EXISTS (SELECT 1 FROM analytics_state WHERE name = 'folded_until')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM analytics_state WHERE name = 'breakdowns_backfill'")
    op.drop_table("analytics_breakdown_days")
    op.drop_table("analytics_measure_hours")
