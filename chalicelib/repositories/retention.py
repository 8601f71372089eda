"""Daily roll-ups and retention: fold whole UTC days of raw views and events, delete old raw rows.

A day is folded for every video in one statement, so readers can take everything
before the latest folded day from roll-ups and everything after from raw rows (see
repositories.analytics). Retention deletes only days that are folded; folding with
``ON CONFLICT DO NOTHING`` is safe to repeat, so a run that stops half way (timeout,
crash) neither loses nor double counts anything.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.repositories.analytics import UNIQUE_VIEWERS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_DAY_START = "(CAST(:day AS date)::timestamp AT TIME ZONE 'UTC')"

_OLDEST_DAY = text(
    """
    SELECT least((SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM video_views),
                 (SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM video_events))
    """
)

_FOLD_DAY = f"""
    WITH views AS (
      SELECT vw.video_id, count(*) AS views, {UNIQUE_VIEWERS.format(p="vw.")} AS unique_viewers,
             sum(vw.watch_time_seconds) AS watch_time, count(*) FILTER (WHERE vw.completed) AS completed
      FROM video_views vw
      WHERE vw.created_at >= {_DAY_START} AND vw.created_at < {_DAY_START} + interval '1 day'
      GROUP BY vw.video_id
    ),
    events AS (
      SELECT e.video_id,
             count(*) FILTER (WHERE e.event_type = 'play') AS play,
             count(*) FILTER (WHERE e.event_type = 'pause') AS pause,
             count(*) FILTER (WHERE e.event_type = 'seek') AS seek,
             count(*) FILTER (WHERE e.event_type = 'complete') AS complete
      FROM video_events e
      WHERE e.created_at >= {_DAY_START} AND e.created_at < {_DAY_START} + interval '1 day'
      GROUP BY e.video_id
    )
    INSERT INTO video_daily_rollups AS r (video_id, day, views, unique_viewers, watch_time_seconds,
                                          completed_views, play_events, pause_events, seek_events, complete_events)
    SELECT COALESCE(views.video_id, events.video_id), CAST(:day AS date),
           COALESCE(views.views, 0), COALESCE(views.unique_viewers, 0), COALESCE(views.watch_time, 0),
           COALESCE(views.completed, 0), COALESCE(events.play, 0), COALESCE(events.pause, 0),
           COALESCE(events.seek, 0), COALESCE(events.complete, 0)
    FROM views FULL OUTER JOIN events ON events.video_id = views.video_id
    WHERE EXISTS (SELECT 1 FROM videos v WHERE v.id = COALESCE(views.video_id, events.video_id))
    ON CONFLICT (video_id, day) DO {{action}}
"""
_REFOLD_ACTION = """UPDATE SET views = EXCLUDED.views, unique_viewers = EXCLUDED.unique_viewers,
      watch_time_seconds = EXCLUDED.watch_time_seconds, completed_views = EXCLUDED.completed_views,
      play_events = EXCLUDED.play_events, pause_events = EXCLUDED.pause_events,
      seek_events = EXCLUDED.seek_events, complete_events = EXCLUDED.complete_events"""
_FOLD_REFERRERS = f"""
    INSERT INTO video_daily_referrers AS r (video_id, day, referer, views)
    SELECT vw.video_id, CAST(:day AS date), vw.referer, count(*)
    FROM video_views vw
    WHERE vw.created_at >= {_DAY_START} AND vw.created_at < {_DAY_START} + interval '1 day'
      AND vw.referer IS NOT NULL
    GROUP BY vw.video_id, vw.referer
    ON CONFLICT (video_id, day, referer) DO {{action}}
"""
_FOLD = {
    replace: (
        text(_FOLD_DAY.format(action=_REFOLD_ACTION if replace else "NOTHING")),
        text(_FOLD_REFERRERS.format(action="UPDATE SET views = EXCLUDED.views" if replace else "NOTHING")),
    )
    for replace in (False, True)
}
_LATEST_FOLDED_DAY = text("SELECT max(day) FROM video_daily_rollups")

_DELETE_BATCH = {
    table: text(
        f"""
        DELETE FROM {table} WHERE id IN (
          SELECT id FROM {table} WHERE created_at < {_DAY_START} + interval '1 day' LIMIT :batch
        )
        """
    )
    for table in ("video_views", "video_events")
}


def oldest_day(connection: Connection) -> date | None:
    """The UTC day of the oldest raw view or event, if any."""
    return connection.execute(_OLDEST_DAY).scalar()


def fold_day(connection: Connection, day: date, *, replace: bool = False) -> int:
    """Write the roll-up rows of ``day`` for every video, in the caller's transaction.

    ``replace=False`` leaves (video, day) rows already folded alone: safe to repeat,
    also after retention deleted part of the day. ``replace=True`` recomputes them
    (for recent days, whose views still gain watch time); never use it on a day
    retention may have started deleting.
    """
    rollups, referrers = _FOLD[replace]
    written = connection.execute(rollups, {"day": day}).rowcount
    connection.execute(referrers, {"day": day})
    return written


def latest_folded_day(connection: Connection) -> date | None:
    return connection.execute(_LATEST_FOLDED_DAY).scalar()


def delete_batch(connection: Connection, table: str, through_day: date, batch: int) -> int:
    """Delete up to ``batch`` rows of ``table`` created on or before ``through_day``."""
    return connection.execute(_DELETE_BATCH[table], {"day": through_day, "batch": batch}).rowcount
