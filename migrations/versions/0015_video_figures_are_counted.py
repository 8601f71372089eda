"""A video's figures are counted when asked, not stored on its row: the module's columns go.

``unique_viewers``, ``total_watch_time_seconds``, ``average_watch_time_seconds``, ``completion_rate``
and ``analytics_aggregated_at`` were copied from the refresh's totals, up to one refresh late, while
reports counted views at once. Every answer now counts a video's figures as its report does (the
totals plus the raw views since the last fold; ``chalicelib/services/analytics/current.py``), so
nothing reads them. The downgrade puts them back, filled from the totals as the refresh filled them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = (
    "unique_viewers",
    "total_watch_time_seconds",
    "average_watch_time_seconds",
    "completion_rate",
    "analytics_aggregated_at",
)


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_column("videos", column)


def downgrade() -> None:
    op.add_column("videos", sa.Column("unique_viewers", sa.Integer, server_default="0", nullable=False))
    op.add_column("videos", sa.Column("total_watch_time_seconds", sa.BigInteger, server_default="0", nullable=False))
    op.add_column(
        "videos", sa.Column("average_watch_time_seconds", sa.Numeric(10, 2), server_default="0", nullable=False)
    )
    op.add_column("videos", sa.Column("completion_rate", sa.Numeric(5, 2), server_default="0", nullable=False))
    op.add_column("videos", sa.Column("analytics_aggregated_at", sa.TIMESTAMP(timezone=True)))
    op.execute(
        """
        UPDATE videos v SET
          unique_viewers = t.viewers,
          total_watch_time_seconds = t.watch_time_seconds,
          average_watch_time_seconds = CASE WHEN t.views > 0
                                            THEN round(t.watch_time_seconds::numeric / t.views, 2) ELSE 0 END,
          completion_rate = CASE WHEN t.views > 0 THEN round(t.completed_views * 100.0 / t.views, 2) ELSE 0 END,
          analytics_aggregated_at = t.updated_at
        FROM analytics_totals t
        WHERE t.scope_id = v.id AND NOT t.team
        """
    )
