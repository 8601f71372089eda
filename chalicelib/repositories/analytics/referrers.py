"""Views per referrer (scheme, host and path only) per video, per UTC hour and per UTC day.

A report over a range reads the UTC days wholly inside it and the hours of its ragged
ends (a local day rarely starts at UTC midnight): about 25 referrers x (days + 48 hours)
rows, where hours alone would be 25 x 24 per day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.repositories.analytics.figures import COUNTED_VIEWS
from chalicelib.repositories.analytics.hours import HOUR_SQL

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_DELETE = text("DELETE FROM analytics_referrers WHERE hour >= :start AND hour < :end")
_FOLD = text(
    f"""
    INSERT INTO analytics_referrers (video_id, hour, team, referer, views)
    SELECT vw.video_id, {HOUR_SQL.format(column="vw.created_at")}, vw.is_team, vw.referer, count(*)
    FROM {COUNTED_VIEWS} vw
    WHERE vw.created_at >= :start AND vw.created_at < :end AND vw.referer IS NOT NULL
    GROUP BY 1, 2, 3, 4
    """
)
_DELETE_DAYS = text(
    "DELETE FROM analytics_referrer_days WHERE day >= CAST(:start AS date) AND day < CAST(:end AS date)"
)
_FOLD_DAYS = text(
    """
    INSERT INTO analytics_referrer_days (video_id, day, team, referer, views)
    SELECT video_id, CAST(hour AT TIME ZONE 'UTC' AS date), team, referer, sum(views)
    FROM analytics_referrers WHERE hour >= :start AND hour < :end
    GROUP BY 1, 2, 3, 4
    """
)
_TOP = text(
    """
    SELECT referer, sum(views) AS views FROM (
      SELECT referer, views FROM analytics_referrer_days
      WHERE video_id = :video_id AND day >= CAST(:days_start AS date) AND day < CAST(:days_end AS date)
        AND team = ANY(CAST(:teams AS boolean[]))
      UNION ALL
      SELECT referer, views FROM analytics_referrers
      WHERE video_id = :video_id AND team = ANY(CAST(:teams AS boolean[]))
        AND ((hour >= :start AND hour < :days_start) OR (hour >= :days_end AND hour < :end))
      UNION ALL
      SELECT * FROM unnest(CAST(:tail_referers AS text[]), CAST(:tail_views AS int[]))
    ) AS counted (referer, views)
    GROUP BY referer
    ORDER BY views DESC, referer
    LIMIT :limit
    """
)
_DAY = timedelta(days=1)
_INSTANT = timedelta(microseconds=1)


def utc_midnight(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def fold_new(connection: Connection, start: datetime, end: datetime) -> None:
    """Recount the referrers of hours [start, end) (the same hours as ``hours.fold_new``) and of their UTC days."""
    params = {"start": start, "end": end}
    connection.execute(_DELETE, params)
    connection.execute(_FOLD, params)
    days = {"start": utc_midnight(start), "end": utc_midnight(end - _INSTANT) + _DAY}
    connection.execute(_DELETE_DAYS, days)
    connection.execute(_FOLD_DAYS, days)


def top(
    connection: Connection,
    video_id: int,
    start: datetime,
    end: datetime,
    teams: tuple[bool, ...],
    limit: int,
    tail: dict[str, int],
) -> list[tuple[str, int]]:
    """The most frequent referrers of the folded hours in [start, end), plus the raw tail's counts."""
    days_start = utc_midnight(start - _INSTANT) + _DAY  # the first UTC midnight at or after start
    days_end = max(utc_midnight(end), days_start)  # the last at or before end
    params = {
        "video_id": video_id,
        "start": start,
        "end": end,
        "days_start": days_start,
        "days_end": days_end,
        "teams": list(teams),
        "limit": limit,
        "tail_referers": list(tail),
        "tail_views": list(tail.values()),
    }
    return [(str(row.referer), int(row.views)) for row in connection.execute(_TOP, params)]
