"""Media schema: users, videos, views, events, schedule history, daily roll-ups and rate-limit counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)


def _created_at() -> sa.Column:
    return sa.Column("created_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    # `users` belongs to the main API, which shares this database; create it only where
    # the search path finds none (a fresh dev or test database). With DATABASE_SCHEMA the
    # main API's `users` in public is the one found, and used.
    op.execute(
        """
        DO $$ BEGIN
          IF to_regclass('users') IS NULL THEN
            CREATE TABLE users (
                id serial PRIMARY KEY,
                email text UNIQUE NOT NULL,
                name text,
                role text NOT NULL DEFAULT 'USER',
                created_at timestamptz NOT NULL DEFAULT now()
            );
          END IF;
        END $$
        """
    )
    op.create_table(
        "videos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text),
        sa.Column("producer", sa.Text),
        sa.Column("creator", sa.Text),
        sa.Column("thumbnail_url", sa.Text),
        sa.Column("duration", sa.Integer, nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("orientation", sa.String(1), nullable=False),
        sa.Column("quality", sa.String(3), nullable=False),
        sa.Column("has_audio", sa.Boolean, server_default=sa.true(), nullable=False),
        sa.Column("is_published", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("scheduled_publish_at", TIMESTAMPTZ),
        sa.Column("scheduled_unpublish_at", TIMESTAMPTZ),
        sa.Column("unique_viewers", sa.Integer, server_default="0", nullable=False),
        sa.Column("total_watch_time_seconds", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("average_watch_time_seconds", sa.Numeric(10, 2), server_default="0", nullable=False),
        sa.Column("completion_rate", sa.Numeric(5, 2), server_default="0", nullable=False),
        sa.Column("analytics_aggregated_at", TIMESTAMPTZ),
        _created_at(),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("orientation IN ('H', 'V')", name="videos_orientation_check"),
        sa.CheckConstraint("quality IN ('SD', 'HD', 'FHD', 'UHD')", name="videos_quality_check"),
    )
    op.create_index("videos_created_at_idx", "videos", ["created_at"])
    op.create_index("videos_is_published_idx", "videos", ["is_published"])

    op.create_table(
        "video_views",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("ip_address", sa.String(64)),
        sa.Column("user_agent", sa.Text),
        sa.Column("referer", sa.Text),
        sa.Column("watch_time_seconds", sa.Integer, server_default="0", nullable=False),
        sa.Column("completed", sa.Boolean, server_default=sa.false(), nullable=False),
        _created_at(),
    )
    # Heartbeats update each view many times: free room on its page lets those updates be
    # HOT (no new index entries), which keeps a heartbeat about as cheap as one INSERT.
    op.execute("ALTER TABLE video_views SET (fillfactor = 80)")
    # Per-video analytics read a video's views by day: (video_id, created_at) serves the
    # range scan and, with user_id and ip_address included, the distinct-viewer count.
    # watch_time_seconds and completed are deliberately NOT included: heartbeats update
    # them, and an indexed column would turn every heartbeat into a non-HOT update.
    op.create_index(
        "video_views_video_created_idx",
        "video_views",
        ["video_id", "created_at"],
        postgresql_include=["user_id", "ip_address"],
    )
    op.create_index("video_views_user_id_idx", "video_views", ["user_id"])
    op.create_index("video_views_created_at_idx", "video_views", ["created_at"])

    op.create_table(
        "video_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("view_id", sa.Integer),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("timestamp", sa.Numeric(10, 2), nullable=False),
        _created_at(),
    )
    # Event counts per video and day are answered from this index alone (events are never updated).
    op.create_index("video_events_video_created_idx", "video_events", ["video_id", "created_at", "event_type"])
    op.create_index("video_events_view_id_idx", "video_events", ["view_id"])
    # Retention deletes by age in batches.
    op.create_index("video_events_created_at_idx", "video_events", ["created_at"])

    op.create_table(
        "video_schedule_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("scheduled_for", TIMESTAMPTZ, nullable=False),
        sa.Column("timezone", sa.String(64), server_default="UTC", nullable=False),
        sa.Column("executed_at", TIMESTAMPTZ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("scheduled_by_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        _created_at(),
        sa.CheckConstraint("action IN ('publish', 'unpublish')", name="video_schedule_history_action_check"),
        sa.CheckConstraint(
            "status IN ('pending', 'completed', 'failed', 'cancelled', 'skipped')",
            name="video_schedule_history_status_check",
        ),
    )
    op.create_index("video_schedule_history_video_id_idx", "video_schedule_history", ["video_id"])
    op.create_index("video_schedule_history_scheduled_for_idx", "video_schedule_history", ["scheduled_for"])
    op.create_index("video_schedule_history_status_idx", "video_schedule_history", ["status"])
    # One pending schedule per video and action: the Scheduler schedule name is derived from the pair.
    op.create_index(
        "video_schedule_history_one_pending_idx",
        "video_schedule_history",
        ["video_id", "action"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "video_daily_rollups",
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("views", sa.Integer, server_default="0", nullable=False),
        sa.Column("unique_viewers", sa.Integer, server_default="0", nullable=False),
        sa.Column("watch_time_seconds", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("completed_views", sa.Integer, server_default="0", nullable=False),
        sa.Column("play_events", sa.Integer, server_default="0", nullable=False),
        sa.Column("pause_events", sa.Integer, server_default="0", nullable=False),
        sa.Column("seek_events", sa.Integer, server_default="0", nullable=False),
        sa.Column("complete_events", sa.Integer, server_default="0", nullable=False),
    )
    op.create_index("video_daily_rollups_day_idx", "video_daily_rollups", ["day"])
    # Views per referrer per video per day, folded with the daily roll-ups (top referrers
    # without reading every view of a busy video).
    op.create_table(
        "video_daily_referrers",
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("referer", sa.Text, primary_key=True),
        sa.Column("views", sa.Integer, server_default="0", nullable=False),
    )
    # Library-wide figures too costly to compute per request (distinct viewers over all
    # views), refreshed by the scheduled analytics refresh.
    op.create_table(
        "analytics_snapshots",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("computed_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
    )

    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("client_key", sa.String(64), primary_key=True),
        sa.Column("window_start", TIMESTAMPTZ, primary_key=True),
        sa.Column("hits", sa.Integer, server_default="0", nullable=False),
    )


def downgrade() -> None:
    for table in (
        "analytics_snapshots",
        "video_daily_referrers",
        "rate_limit_counters",
        "video_daily_rollups",
        "video_schedule_history",
        "video_events",
        "video_views",
        "videos",
    ):
        op.drop_table(table)
