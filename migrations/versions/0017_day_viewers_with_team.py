"""A day's distinct viewers of team and other views together, counted once when the day is folded.

A report with ``includeTeam=true`` gives each day the distinct viewers of both kinds of views. It
merged the day's two sketches and estimated the union, per point: a 16 KB sketch read and an
estimate for each of a busy video's days. The team row of a day now carries that count
(``viewers_with_team``) whenever the day's viewers are counted exactly from raw rows, in the same
statement that counts each kind; it stays NULL where the day is estimated (raw rows no longer
kept, rows folded before this revision), and such days are merged as before.

The column joins the covering index the reports read days through, so they stay index-only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEX = "analytics_days_figures_idx"
KEYS = ["scope_id", "zone", "day", "team"]
INCLUDED = [
    "viewers",
    "viewers_exact",
    "peak_viewers",
    "views",
    "watch_time_seconds",
    "completed_views",
    "play_events",
    "pause_events",
    "seek_events",
    "complete_events",
]


def _covering(included: list[str]) -> None:
    op.drop_index(INDEX, table_name="analytics_days")
    op.create_index(INDEX, "analytics_days", KEYS, postgresql_include=included)


def upgrade() -> None:
    op.add_column("analytics_days", sa.Column("viewers_with_team", sa.Integer(), nullable=True))
    _covering([*INCLUDED, "viewers_with_team"])


def downgrade() -> None:
    _covering(INCLUDED)
    op.drop_column("analytics_days", "viewers_with_team")
