"""Analytics queries: every number is computed by PostgreSQL, never by pulling rows into Python.

Two sources, combined without double counting:

* ``video_daily_rollups`` / ``video_daily_referrers``: per video per closed UTC day,
  folded by the scheduled refresh (every few minutes; the last two days are re-folded
  so late heartbeats and completions land) and kept after retention deletes raw rows;
* raw ``video_views`` / ``video_events`` for the days not folded yet (today).

The boundary is one date, the day after the latest folded day (``raw_from``): each
fold writes a whole day for every video in one statement, so before it everything
comes from roll-ups, from it on everything from raw rows. Reads stay small at any
library size: a busy video's year is ~365 roll-up rows plus today's raw rows.

Unique viewers: a distinct user id, else a distinct IP hash; a view with neither
(IP hashing disabled) is a viewer of its own. Distinct counts do not add across days,
so a range total is counted exactly over raw views (kept for the retention period,
read from the covering index without touching the table) and only days whose raw
rows retention has deleted contribute their per-day counts (an upper bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Per-group distinct viewers; used inside aggregates over video_views rows aliased {p}.
UNIQUE_VIEWERS = """(count(DISTINCT {p}user_id)
  + count(DISTINCT {p}ip_address COLLATE "C") FILTER (WHERE {p}user_id IS NULL)
  + count(*) FILTER (WHERE {p}user_id IS NULL AND {p}ip_address IS NULL))"""


def day_start(param: str) -> str:
    """SQL for 00:00 UTC of the date bound to ``:param``."""
    return f"(CAST(:{param} AS date)::timestamp AT TIME ZONE 'UTC')"


# Distinct viewers of one video over [:from, :end]: hash-grouped straight from the
# covering index (video_id, created_at) INCLUDE (user_id, ip_address).
_DISTINCT_VIEWERS = text(
    f"""
    SELECT COALESCE(sum(CASE WHEN k IS NULL THEN n ELSE 1 END), 0) FROM (
      SELECT COALESCE(vw.user_id::text, vw.ip_address) AS k, count(*) AS n
      FROM video_views vw
      WHERE vw.video_id = :video_id AND vw.created_at >= {day_start("from")}
        AND vw.created_at < {day_start("end")} + interval '1 day'
      GROUP BY 1
    ) AS viewers
    """
)

_RAW_FROM = text("SELECT max(day) + 1 FROM video_daily_rollups")

_DATA_START = text(
    """
    SELECT least((SELECT min(day) FROM video_daily_rollups WHERE video_id = :video_id),
                 (SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM video_views WHERE video_id = :video_id))
    """
)

_VIEWS_BY_DAY = text(
    f"""
    WITH raw AS (
      SELECT (vw.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS views,
             {UNIQUE_VIEWERS.format(p="vw.")} AS unique_viewers,
             sum(vw.watch_time_seconds) AS watch_time, count(*) FILTER (WHERE vw.completed) AS completed
      FROM video_views vw
      WHERE vw.video_id = :video_id AND vw.created_at >= {day_start("raw_start")}
        AND vw.created_at < {day_start("end")} + interval '1 day'
      GROUP BY 1
    ),
    rolled AS (
      SELECT day, views, unique_viewers, watch_time_seconds AS watch_time, completed_views AS completed
      FROM video_daily_rollups
      WHERE video_id = :video_id AND day >= CAST(:start AS date) AND day <= CAST(:end AS date)
        AND day < CAST(:raw_start AS date)
    ),
    days AS (SELECT * FROM raw UNION ALL SELECT * FROM rolled)
    SELECT s.day::date, COALESCE(d.views, 0), COALESCE(d.unique_viewers, 0),
           COALESCE(d.watch_time, 0), COALESCE(d.completed, 0)
    FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS s(day)
    LEFT JOIN days d ON d.day = s.day::date
    ORDER BY 1
    """
)

_EVENT_COUNTS = text(
    f"""
    WITH raw AS (
      SELECT count(*) FILTER (WHERE e.event_type = 'play') AS play,
             count(*) FILTER (WHERE e.event_type = 'pause') AS pause,
             count(*) FILTER (WHERE e.event_type = 'seek') AS seek,
             count(*) FILTER (WHERE e.event_type = 'complete') AS complete
      FROM video_events e
      WHERE e.video_id = :video_id AND e.created_at >= {day_start("raw_start")}
        AND e.created_at < {day_start("end")} + interval '1 day'
    ),
    rolled AS (
      SELECT COALESCE(sum(r.play_events), 0) AS play, COALESCE(sum(r.pause_events), 0) AS pause,
             COALESCE(sum(r.seek_events), 0) AS seek, COALESCE(sum(r.complete_events), 0) AS complete
      FROM video_daily_rollups r
      WHERE r.video_id = :video_id AND r.day >= CAST(:start AS date) AND r.day <= CAST(:end AS date)
        AND r.day < CAST(:raw_start AS date)
    )
    SELECT raw.play + rolled.play, raw.pause + rolled.pause, raw.seek + rolled.seek, raw.complete + rolled.complete
    FROM raw, rolled
    """
)

_TOP_REFERRERS = text(
    f"""
    SELECT referer, sum(views) AS views FROM (
      SELECT vw.referer, count(*) AS views
      FROM video_views vw
      WHERE vw.video_id = :video_id AND vw.referer IS NOT NULL
        AND vw.created_at >= {day_start("raw_start")} AND vw.created_at < {day_start("end")} + interval '1 day'
      GROUP BY vw.referer
      UNION ALL
      SELECT r.referer, sum(r.views)
      FROM video_daily_referrers r
      WHERE r.video_id = :video_id AND r.day >= CAST(:start AS date) AND r.day <= CAST(:end AS date)
        AND r.day < CAST(:raw_start AS date)
      GROUP BY r.referer
    ) AS parts
    GROUP BY referer
    ORDER BY views DESC, referer
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class DayRow:
    day: date
    views: int
    unique_viewers: int
    watch_time_seconds: int
    completed_views: int


@dataclass(frozen=True)
class Totals:
    views: int = 0
    unique_viewers: int = 0
    watch_time_seconds: int = 0
    completed_views: int = 0

    @property
    def average_watch_time(self) -> float:
        return self.watch_time_seconds / self.views if self.views else 0.0

    @property
    def completion_rate(self) -> float:
        return self.completed_views / self.views * 100 if self.views else 0.0


@dataclass(frozen=True)
class Window:
    """A report's date range and where its data comes from."""

    video_id: int
    start: date
    end: date
    raw_from: date  # first day read from raw rows (the day after the latest fold)
    raw_kept_from: date  # first day whose raw views retention still keeps

    def params(self) -> dict[str, Any]:
        return {
            "video_id": self.video_id,
            "start": self.start,
            "end": self.end,
            "raw_start": max(self.start, self.raw_from),
        }


def raw_from(connection: Connection) -> date:
    """The first UTC day not folded into roll-ups yet (``date.min`` before the first fold)."""
    return connection.execute(_RAW_FROM).scalar() or date.min


def data_start(connection: Connection, video_id: int) -> date | None:
    """The first day with any data for the video (raw or rolled up)."""
    return connection.execute(_DATA_START, {"video_id": video_id}).scalar()


def views_by_day(connection: Connection, window: Window) -> list[DayRow]:
    rows = connection.execute(_VIEWS_BY_DAY, window.params()).all()
    return [DayRow(row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in rows]


def distinct_viewers(connection: Connection, video_id: int, start: date, end: date) -> int:
    """Exact distinct viewers of ``video_id`` among its raw views of ``[start, end]``."""
    if end < start:
        return 0
    params = {"video_id": video_id, "from": start, "end": end}
    return int(connection.execute(_DISTINCT_VIEWERS, params).scalar() or 0)


def event_counts(connection: Connection, window: Window) -> dict[str, int]:
    row = connection.execute(_EVENT_COUNTS, window.params()).one()
    return dict(zip(("play", "pause", "seek", "complete"), (int(value) for value in row), strict=True))


def top_referrers(connection: Connection, window: Window, limit: int = 10) -> list[tuple[str, int]]:
    params = {**window.params(), "limit": limit}
    return [(str(row[0]), int(row[1])) for row in connection.execute(_TOP_REFERRERS, params)]


# --- stored aggregates on the video row --------------------------------------------------

# All-time totals of the given videos, written onto their rows in the same statement.
# Additive figures: roll-ups before :raw_from plus raw rows from it. Distinct viewers:
# exact over the raw views still kept (from :unique_from), plus the per-day counts of
# folded days whose raw rows are gone.
AGGREGATE_SQL = f"""
WITH targets AS (
  SELECT id FROM videos WHERE id = ANY(CAST(:video_ids AS int[]))
),
raw AS (
  SELECT vw.video_id, count(*) AS views, sum(vw.watch_time_seconds) AS watch_time,
         count(*) FILTER (WHERE vw.completed) AS completed
  FROM targets t JOIN video_views vw ON vw.video_id = t.id AND vw.created_at >= {day_start("raw_from")}
  GROUP BY vw.video_id
),
rolled AS (
  SELECT r.video_id, sum(r.views) AS views, sum(r.watch_time_seconds) AS watch_time,
         sum(r.completed_views) AS completed,
         sum(r.unique_viewers) FILTER (WHERE r.day < CAST(:unique_from AS date)) AS unique_viewers
  FROM targets t JOIN video_daily_rollups r ON r.video_id = t.id AND r.day < CAST(:raw_from AS date)
  GROUP BY r.video_id
),
viewers AS (
  SELECT video_id, sum(CASE WHEN k IS NULL THEN n ELSE 1 END) AS unique_viewers FROM (
    SELECT vw.video_id, COALESCE(vw.user_id::text, vw.ip_address) AS k, count(*) AS n
    FROM targets t JOIN video_views vw ON vw.video_id = t.id AND vw.created_at >= {day_start("unique_from")}
    GROUP BY 1, 2
  ) AS keys
  GROUP BY video_id
),
totals AS (
  SELECT t.id,
         COALESCE(raw.views, 0) + COALESCE(rolled.views, 0) AS views,
         COALESCE(viewers.unique_viewers, 0) + COALESCE(rolled.unique_viewers, 0) AS unique_viewers,
         COALESCE(raw.watch_time, 0) + COALESCE(rolled.watch_time, 0) AS watch_time,
         COALESCE(raw.completed, 0) + COALESCE(rolled.completed, 0) AS completed
  FROM targets t LEFT JOIN raw ON raw.video_id = t.id LEFT JOIN rolled ON rolled.video_id = t.id
  LEFT JOIN viewers ON viewers.video_id = t.id
)
UPDATE videos v SET
  unique_viewers = totals.unique_viewers,
  total_watch_time_seconds = totals.watch_time,
  average_watch_time_seconds = CASE WHEN totals.views > 0 THEN round(totals.watch_time::numeric / totals.views, 2)
                                    ELSE 0 END,
  completion_rate = CASE WHEN totals.views > 0 THEN round(totals.completed * 100.0 / totals.views, 2) ELSE 0 END,
  analytics_aggregated_at = now()
FROM totals
WHERE v.id = totals.id
RETURNING v.id, totals.views, totals.unique_viewers, totals.watch_time, totals.completed
"""
_AGGREGATE = text(AGGREGATE_SQL)


def aggregate(connection: Connection, video_ids: list[int], raw_from_day: date, unique_from: date) -> dict[int, Totals]:
    """Recompute and store the aggregates of ``video_ids``; return the totals by video id."""
    params = {
        "video_ids": "{" + ",".join(str(int(i)) for i in video_ids) + "}",
        "raw_from": raw_from_day,
        "unique_from": unique_from,
    }
    rows = connection.execute(_AGGREGATE, params)
    return {int(row[0]): Totals(int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in rows}


_ACTIVE_VIDEOS = text(
    """
    SELECT DISTINCT vw.video_id FROM video_views vw
    WHERE vw.created_at > now() - make_interval(secs => :lookback_seconds)
    """
)


def recently_active_videos(connection: Connection, lookback_seconds: int) -> list[int]:
    """Videos with views started within the lookback: the only ones whose totals can still move."""
    return [int(row[0]) for row in connection.execute(_ACTIVE_VIDEOS, {"lookback_seconds": lookback_seconds})]


_RESET = (
    text("DELETE FROM video_events WHERE video_id = :video_id"),
    text("DELETE FROM video_views WHERE video_id = :video_id"),
    text("DELETE FROM video_daily_rollups WHERE video_id = :video_id"),
    text("DELETE FROM video_daily_referrers WHERE video_id = :video_id"),
    text(
        """
        UPDATE videos SET unique_viewers = 0, total_watch_time_seconds = 0, average_watch_time_seconds = 0,
                          completion_rate = 0, analytics_aggregated_at = now()
        WHERE id = :video_id
        """
    ),
)


def reset(connection: Connection, video_id: int) -> None:
    """Delete a video's views, events and roll-ups and zero its aggregates (caller's transaction)."""
    for statement in _RESET:
        connection.execute(statement, {"video_id": video_id})


_LOCK_VIDEO = text("SELECT id FROM videos WHERE id = :video_id FOR UPDATE")
_VIDEO_EXISTS = text("SELECT id FROM videos WHERE id = :video_id")


def lock_video(connection: Connection, video_id: int) -> bool:
    return connection.execute(_LOCK_VIDEO, {"video_id": video_id}).first() is not None


def video_exists(connection: Connection, video_id: int) -> bool:
    return connection.execute(_VIDEO_EXISTS, {"video_id": video_id}).first() is not None


# --- viewers, top, overview --------------------------------------------------------------

_VIEWERS = text(
    """
    SELECT u.id, u.name, u.email, count(*) AS views, sum(vw.watch_time_seconds) AS watch_time,
           max(vw.created_at) AS last_viewed_at
    FROM video_views vw JOIN users u ON u.id = vw.user_id
    WHERE vw.video_id = :video_id
    GROUP BY u.id
    ORDER BY last_viewed_at DESC, u.id
    LIMIT :limit
    """
)


def viewers(connection: Connection, video_id: int, limit: int) -> list[Any]:
    return list(connection.execute(_VIEWERS, {"video_id": video_id, "limit": limit}).all())


# Rank on all-time views or watch time (roll-ups + today's raw rows); uniqueViewers is the
# stored aggregate (refreshed every few minutes), completion is computed from the sums.
_TOP = {
    metric: text(
        f"""
        WITH ranked AS (
          SELECT video_id, sum(views) AS views, sum(watch_time) AS watch_time, sum(completed) AS completed
          FROM (
            SELECT r.video_id, r.views, r.watch_time_seconds AS watch_time, r.completed_views AS completed
            FROM video_daily_rollups r WHERE r.day < CAST(:raw_from AS date)
            UNION ALL
            SELECT vw.video_id, 1, vw.watch_time_seconds, CASE WHEN vw.completed THEN 1 ELSE 0 END
            FROM video_views vw WHERE vw.created_at >= {day_start("raw_from")}
          ) AS parts
          GROUP BY video_id
          ORDER BY {order} DESC, video_id
          LIMIT :limit
        )
        SELECT v.id, v.title, ranked.views, ranked.watch_time, v.unique_viewers,
               CASE WHEN ranked.views > 0 THEN ranked.completed * 100.0 / ranked.views ELSE 0 END
        FROM ranked JOIN videos v ON v.id = ranked.video_id
        ORDER BY ranked.{order} DESC, v.id
        """
    )
    for metric, order in (("views", "views"), ("watchTime", "watch_time"))
}


def top(connection: Connection, metric: str, limit: int, raw_from_day: date) -> list[Any]:
    return list(connection.execute(_TOP[metric], {"limit": limit, "raw_from": raw_from_day}).all())


_OVERVIEW = text(
    f"""
    WITH raw AS (
      SELECT count(*) AS views, COALESCE(sum(watch_time_seconds), 0) AS watch_time,
             count(*) FILTER (WHERE completed) AS completed
      FROM video_views WHERE created_at >= {day_start("raw_from")}
    ),
    rolled AS (
      SELECT COALESCE(sum(views), 0) AS views, COALESCE(sum(watch_time_seconds), 0) AS watch_time,
             COALESCE(sum(completed_views), 0) AS completed
      FROM video_daily_rollups WHERE day < CAST(:raw_from AS date)
    )
    SELECT (SELECT count(*) FROM videos), (SELECT count(*) FROM videos WHERE is_published),
           raw.views + rolled.views, raw.watch_time + rolled.watch_time, raw.completed + rolled.completed,
           (SELECT count(*) FROM video_views WHERE created_at > now() - interval '24 hours'),
           (SELECT count(*) FROM video_views WHERE created_at > now() - interval '7 days'),
           (SELECT count(*) FROM video_views WHERE created_at > now() - interval '30 days')
    FROM raw, rolled
    """
)

_OVERVIEW_DAYS = text(
    f"""
    WITH days AS (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS views,
             {UNIQUE_VIEWERS.format(p="")} AS unique_viewers, sum(watch_time_seconds) AS watch_time
      FROM video_views
      WHERE created_at >= {day_start("raw_start")}
      GROUP BY 1
      UNION ALL
      SELECT day, sum(views), sum(unique_viewers), sum(watch_time_seconds)
      FROM video_daily_rollups WHERE day >= CAST(:start AS date) AND day < CAST(:raw_from AS date) GROUP BY day
    )
    SELECT s.day::date, COALESCE(sum(d.views), 0), COALESCE(sum(d.unique_viewers), 0), COALESCE(sum(d.watch_time), 0)
    FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS s(day)
    LEFT JOIN days d ON d.day = s.day::date
    GROUP BY 1 ORDER BY 1
    """
)


def overview(connection: Connection, raw_from_day: date) -> Any:
    return connection.execute(_OVERVIEW, {"raw_from": raw_from_day}).one()


def overview_days(connection: Connection, start: date, end: date, raw_from_day: date) -> list[Any]:
    params = {"start": start, "end": end, "raw_from": raw_from_day, "raw_start": max(start, raw_from_day)}
    return list(connection.execute(_OVERVIEW_DAYS, params).all())


# Distinct viewers of the whole library: exact over kept raw views, plus per-video-day
# counts of folded days whose raw rows are gone. Too slow per request at a million
# views, so the scheduled refresh stores it in analytics_snapshots.
_LIBRARY_VIEWERS = text(
    f"""
    SELECT (SELECT COALESCE(sum(CASE WHEN k IS NULL THEN n ELSE 1 END), 0) FROM (
              SELECT COALESCE(user_id::text, ip_address) AS k, count(*) AS n
              FROM video_views WHERE created_at >= {day_start("unique_from")} GROUP BY 1) AS keys)
         + (SELECT COALESCE(sum(unique_viewers), 0) FROM video_daily_rollups WHERE day < CAST(:unique_from AS date))
    """
)
_STORE_SNAPSHOT = text(
    """
    INSERT INTO analytics_snapshots (name, value, computed_at) VALUES (:name, :value, now())
    ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, computed_at = EXCLUDED.computed_at
    """
)
_READ_SNAPSHOT = text("SELECT value FROM analytics_snapshots WHERE name = :name")
LIBRARY_VIEWERS = "library_unique_viewers"


def refresh_library_viewers(connection: Connection, unique_from: date) -> int:
    value = int(connection.execute(_LIBRARY_VIEWERS, {"unique_from": unique_from}).scalar() or 0)
    connection.execute(_STORE_SNAPSHOT, {"name": LIBRARY_VIEWERS, "value": value})
    return value


def library_viewers(connection: Connection) -> int | None:
    value = connection.execute(_READ_SNAPSHOT, {"name": LIBRARY_VIEWERS}).scalar()
    return None if value is None else int(value)
