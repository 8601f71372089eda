"""Analytics at constant cost: hourly roll-ups with viewer sketches, local-time days, team views.

Reports used to count distinct viewers over raw views, so their cost grew with a video's
views. Now the refresh folds raw rows into per-hour figures with a HyperLogLog sketch of
their viewers (``analytics_hours``), materialises calendar days per time zone in use
(``analytics_days``) and all-time figures (``analytics_totals``); a report reads rows
whose number grows with the hours or days in its range, never with views. Scope 0 is
the whole library. Views and events recorded with an admin token are marked as team
views (``is_team``) and kept apart.

Days folded before this migration whose raw rows retention already deleted survive as
they were: each becomes one row at 00:00 UTC of its day, with its exact daily viewer
count and no sketch. Days whose raw rows are still kept are folded anew by the refresh.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMPTZ = sa.DateTime(timezone=True)
EVENT_COLUMNS = ("play_events", "pause_events", "seek_events", "complete_events")
ADDITIVE = ("views", "watch_time_seconds", "completed_views", *EVENT_COLUMNS)


def _figures() -> list[sa.Column]:
    return [
        sa.Column("views", sa.Integer, server_default="0", nullable=False),
        sa.Column("viewers", sa.Integer, server_default="0", nullable=False),
        sa.Column("watch_time_seconds", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("completed_views", sa.Integer, server_default="0", nullable=False),
        *[sa.Column(name, sa.Integer, server_default="0", nullable=False) for name in EVENT_COLUMNS],
        sa.Column("sketch", sa.LargeBinary),
    ]


def upgrade() -> None:
    for table in ("video_views", "video_events"):
        op.add_column(table, sa.Column("is_team", sa.Boolean, server_default="false", nullable=False))
    op.create_table(
        "analytics_hours",
        sa.Column("scope_id", sa.Integer, primary_key=True),
        sa.Column("hour", TIMESTAMPTZ, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        *_figures(),
    )
    op.create_table(
        "analytics_days",
        sa.Column("scope_id", sa.Integer, primary_key=True),
        sa.Column("zone", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        *_figures(),
        sa.Column("viewers_exact", sa.Boolean, server_default="true", nullable=False),
    )
    op.create_table(
        "analytics_referrers",
        sa.Column("video_id", sa.Integer, primary_key=True),
        sa.Column("hour", TIMESTAMPTZ, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        sa.Column("referer", sa.Text, primary_key=True),
        sa.Column("views", sa.Integer, nullable=False),
    )
    op.create_table(
        "analytics_referrer_days",
        sa.Column("video_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        sa.Column("referer", sa.Text, primary_key=True),
        sa.Column("views", sa.Integer, nullable=False),
    )
    op.create_table(
        "analytics_totals",
        sa.Column("scope_id", sa.Integer, primary_key=True),
        sa.Column("team", sa.Boolean, primary_key=True),
        sa.Column("views", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("viewers", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("viewers_exact", sa.Boolean, server_default="true", nullable=False),
        sa.Column("watch_time_seconds", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("completed_views", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("sketch", sa.LargeBinary),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "analytics_zones",
        sa.Column("zone", sa.Text, primary_key=True),
        sa.Column("requested_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.Column("materialized_at", TIMESTAMPTZ),
    )
    op.create_table(
        "analytics_state",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("at", TIMESTAMPTZ, nullable=False),
    )
    op.execute("INSERT INTO analytics_zones (zone) VALUES ('UTC')")
    _keep_folded_days_without_raw_rows()
    for table in ("analytics_snapshots", "video_daily_referrers", "video_daily_rollups"):
        op.drop_table(table)


def _keep_folded_days_without_raw_rows() -> None:
    """Legacy daily roll-ups of days before the oldest raw row become 00:00 UTC hours and UTC days."""
    floor = """(SELECT least((SELECT min(created_at) FROM video_views), (SELECT min(created_at) FROM video_events)))"""
    op.execute(
        f"""
        INSERT INTO analytics_state (name, at)
        SELECT 'fold_floor', date_trunc('day', {floor} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        WHERE {floor} IS NOT NULL
        """
    )
    legacy = """video_daily_rollups r WHERE (r.day::timestamp AT TIME ZONE 'UTC') <
        COALESCE((SELECT at FROM analytics_state WHERE name = 'fold_floor'), 'infinity')"""
    sums = ", ".join(f"sum(r.{name})" for name in ADDITIVE)
    columns = ", ".join(ADDITIVE)
    picked = ", ".join(f"r.{name}" for name in ADDITIVE)
    hour = "(r.day::timestamp AT TIME ZONE 'UTC')"
    op.execute(
        f"""INSERT INTO analytics_hours (scope_id, hour, team, viewers, {columns})
            SELECT r.video_id, {hour}, false, r.unique_viewers, {picked} FROM {legacy}"""
    )
    op.execute(
        f"""INSERT INTO analytics_hours (scope_id, hour, team, viewers, {columns})
            SELECT 0, {hour}, false, sum(r.unique_viewers), {sums} FROM {legacy} GROUP BY r.day"""
    )
    op.execute(
        f"""INSERT INTO analytics_days (scope_id, zone, day, team, viewers, {columns})
            SELECT scope_id, 'UTC', (hour AT TIME ZONE 'UTC')::date, team, viewers, {columns}
            FROM analytics_hours"""
    )
    op.execute("UPDATE analytics_days SET viewers_exact = false WHERE scope_id = 0")  # a sum of daily counts
    # All-time totals start as the legacy hours' sums; each fold then adds what it changes.
    op.execute(
        """INSERT INTO analytics_totals (scope_id, team, views, watch_time_seconds, completed_views, viewers,
                                         viewers_exact)
           SELECT scope_id, team, sum(views), sum(watch_time_seconds), sum(completed_views), sum(viewers), false
           FROM analytics_hours GROUP BY scope_id, team"""
    )
    op.execute(
        f"""INSERT INTO analytics_referrers (video_id, hour, team, referer, views)
            SELECT r.video_id, {hour}, false, r.referer, r.views
            FROM video_daily_referrers r WHERE {hour} <
                COALESCE((SELECT at FROM analytics_state WHERE name = 'fold_floor'), 'infinity')"""
    )
    op.execute(
        """INSERT INTO analytics_referrer_days (video_id, day, team, referer, views)
           SELECT video_id, CAST(hour AT TIME ZONE 'UTC' AS date), team, referer, views FROM analytics_referrers"""
    )


def downgrade() -> None:
    """Back to daily UTC roll-ups: team and non-team figures summed, hours summed into days."""
    op.create_table(
        "video_daily_rollups",
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("views", sa.Integer, server_default="0", nullable=False),
        sa.Column("unique_viewers", sa.Integer, server_default="0", nullable=False),
        sa.Column("watch_time_seconds", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("completed_views", sa.Integer, server_default="0", nullable=False),
        *[sa.Column(name, sa.Integer, server_default="0", nullable=False) for name in EVENT_COLUMNS],
    )
    op.create_index("video_daily_rollups_day_idx", "video_daily_rollups", ["day"])
    op.create_table(
        "video_daily_referrers",
        sa.Column("video_id", sa.Integer, sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("referer", sa.Text, primary_key=True),
        sa.Column("views", sa.Integer, server_default="0", nullable=False),
    )
    op.create_table(
        "analytics_snapshots",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("computed_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
    )
    sums = ", ".join(f"sum({name})" for name in ADDITIVE)
    op.execute(
        f"""INSERT INTO video_daily_rollups (video_id, day, unique_viewers, {", ".join(ADDITIVE)})
            SELECT d.scope_id, d.day, sum(d.viewers), {sums} FROM analytics_days d
            WHERE d.zone = 'UTC' AND d.scope_id IN (SELECT id FROM videos) GROUP BY d.scope_id, d.day"""
    )
    op.execute(
        """INSERT INTO video_daily_referrers (video_id, day, referer, views)
           SELECT video_id, (hour AT TIME ZONE 'UTC')::date, referer, sum(views) FROM analytics_referrers
           WHERE video_id IN (SELECT id FROM videos) GROUP BY 1, 2, 3"""
    )
    for table in (
        "analytics_state",
        "analytics_zones",
        "analytics_totals",
        "analytics_referrer_days",
        "analytics_referrers",
        "analytics_days",
        "analytics_hours",
    ):
        op.drop_table(table)
    for table in ("video_views", "video_events"):
        op.drop_column(table, "is_team")
