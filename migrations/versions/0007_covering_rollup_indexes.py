"""Covering indexes for the two roll-ups a report reads most rows of.

The refresh writes a day for every scope at once, so one video's days (and its referrers'
days) lie one per heap page: a 120-day report read 120 pages of days and about 3,000 of
referrers, one random read each. With the figures in the index, those reads are
index-only scans of neighbouring index entries (once vacuum has marked the pages
all-visible, which autovacuum does for these insert-mostly tables). A day's viewer
sketch stays out of the index: it is read only when an estimate needs it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DAY_FIGURES = [
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


def upgrade() -> None:
    op.create_index(
        "analytics_days_figures_idx",
        "analytics_days",
        ["scope_id", "zone", "day", "team"],
        postgresql_include=DAY_FIGURES,
    )
    op.create_index(
        "analytics_referrer_days_video_team_day_idx",
        "analytics_referrer_days",
        ["video_id", "team", "day"],
        postgresql_include=["referer", "views"],
    )


def downgrade() -> None:
    op.drop_index("analytics_referrer_days_video_team_day_idx", table_name="analytics_referrer_days")
    op.drop_index("analytics_days_figures_idx", table_name="analytics_days")
