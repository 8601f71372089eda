"""Raw views and events folded into UTC hours per scope (each video, and 0 for the library).

Two kinds of fold, because a view's viewer never changes but its watch time and
completion grow while it is watched:

* :func:`fold_new` recomputes hours whose raw rows are new since the last fold: every
  figure, the exact distinct viewers, and each hour's viewer sketch (built by PostgreSQL,
  see :func:`chalicelib.domain.sketch.sketches_sql`);
* :func:`refresh_progress` updates only watch time and completed views of older hours
  still within reach of late heartbeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.domain.figures import Figures
from chalicelib.domain.sketch import HASH_SQL, SCOPES, VIEWER_KEY_SQL, sketches_sql
from chalicelib.repositories.analytics.figures import (
    ADDITIVE,
    COUNTED_VIEWS,
    EVENT_COLUMNS,
    SPANS,
    event_counts_sql,
    figures_of,
    span_params,
    sum_columns,
)
from chalicelib.repositories.analytics.live import PEAKS_SQL

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

HOUR_SQL = "date_trunc('hour', {column}, 'UTC')"
_VIEWER = VIEWER_KEY_SQL.format(p="vw.")
_HASH = HASH_SQL.format(key=_VIEWER)

_DELETE = text("DELETE FROM analytics_hours WHERE hour >= :start AND hour < :end")


def _registers(*, by_hour: bool) -> str:
    """Each scope's viewer registers among the raw views of :start..:end, per team, and per UTC hour unless
    ``by_hour`` is false (the whole span)."""
    hour = f"{HOUR_SQL.format(column='vw.created_at')} AS hour, " if by_hour else ""
    keys = "hour, " if by_hour else ""
    return f"""
    WITH hashed AS (
      SELECT vw.video_id, {hour}vw.is_team AS team, {_HASH} AS h
      FROM {COUNTED_VIEWS} vw
      WHERE vw.created_at >= :start AND vw.created_at < :end
    ),
    registers AS (
      SELECT video_id, {keys}team, {SCOPES.register_sql.format(hash="h")} AS register,
             {SCOPES.value_sql.format(hash="h")} AS rank
      FROM hashed
    )
    SELECT COALESCE(video_id, 0) AS scope_id, {keys}team, register, max(rank) AS rank
    FROM registers
    GROUP BY GROUPING SETS ((video_id, {keys}team, register), ({keys}team, register))
"""


_REGISTERS = _registers(by_hour=True)
_SPAN_SKETCHES = text(sketches_sql(_registers(by_hour=False), "scope_id, team"))
_FOLD = text(
    f"""
    WITH raw_views AS (
      SELECT vw.video_id, {HOUR_SQL.format(column="vw.created_at")} AS hour, vw.is_team AS team,
             {_VIEWER} AS viewer, vw.watch_time_seconds, vw.completed
      FROM {COUNTED_VIEWS} vw
      WHERE vw.created_at >= :start AND vw.created_at < :end
    ),
    views AS (
      SELECT COALESCE(video_id, 0) AS scope_id, hour, team, count(*) AS views, count(DISTINCT viewer) AS viewers,
             sum(watch_time_seconds) AS watch_time_seconds, count(*) FILTER (WHERE completed) AS completed_views
      FROM raw_views
      GROUP BY GROUPING SETS ((video_id, hour, team), (hour, team))
    ),
    raw_events AS (
      SELECT e.video_id, {HOUR_SQL.format(column="e.created_at")} AS hour, e.is_team AS team, e.event_type
      FROM video_events e
      WHERE e.created_at >= :start AND e.created_at < :end
    ),
    events AS (
      SELECT COALESCE(e.video_id, 0) AS scope_id, e.hour, e.team, {event_counts_sql("e")}
      FROM raw_events e
      GROUP BY GROUPING SETS ((e.video_id, e.hour, e.team), (e.hour, e.team))
    )
    INSERT INTO analytics_hours (scope_id, hour, team, views, viewers, watch_time_seconds, completed_views,
                                 {", ".join(EVENT_COLUMNS)}, peak_viewers, sketch)
    SELECT scope_id, hour, team, COALESCE(views.views, 0), COALESCE(views.viewers, 0),
           COALESCE(views.watch_time_seconds, 0), COALESCE(views.completed_views, 0),
           {", ".join(f"COALESCE(events.{column}, 0)" for column in EVENT_COLUMNS)},
           COALESCE(peaks.peak_viewers, 0), s.sketch
    FROM views FULL OUTER JOIN events USING (scope_id, hour, team)
    FULL OUTER JOIN ({PEAKS_SQL}) AS peaks USING (scope_id, hour, team)
    LEFT JOIN ({sketches_sql(_REGISTERS, "scope_id, hour, team")}) AS s USING (scope_id, hour, team)
    """
)
_PROGRESS = text(
    f"""
    WITH raw_views AS (
      SELECT vw.video_id, {HOUR_SQL.format(column="vw.created_at")} AS hour, vw.is_team AS team,
             vw.watch_time_seconds, vw.completed
      FROM {COUNTED_VIEWS} vw
      WHERE vw.created_at >= :start AND vw.created_at < :end
    ),
    progress AS (
      SELECT COALESCE(video_id, 0) AS scope_id, hour, team, sum(watch_time_seconds) AS watch_time_seconds,
             count(*) FILTER (WHERE completed) AS completed_views
      FROM raw_views
      GROUP BY GROUPING SETS ((video_id, hour, team), (hour, team))
    )
    UPDATE analytics_hours h
    SET watch_time_seconds = p.watch_time_seconds, completed_views = p.completed_views
    FROM progress p
    WHERE h.scope_id = p.scope_id AND h.hour = p.hour AND h.team = p.team
      AND (h.watch_time_seconds, h.completed_views) IS DISTINCT FROM (p.watch_time_seconds, p.completed_views)
    RETURNING h.scope_id
    """
)
_TOUCHED = text("SELECT DISTINCT scope_id FROM analytics_hours WHERE hour >= :start AND hour < :end")
_ALL_TIME = text(
    f"""
    SELECT scope_id, team, {sum_columns()}
    FROM analytics_hours WHERE scope_id = ANY(CAST(:scopes AS int[]))
    GROUP BY scope_id, team
    """
)
_BY_SCOPE = text(
    f"""
    SELECT scope_id, team, {sum_columns()}
    FROM analytics_hours WHERE hour >= :start AND hour < :end
    GROUP BY scope_id, team
    """
)
_SUM = text(
    f"""
    SELECT {sum_columns()} FROM analytics_hours
    WHERE scope_id = :scope AND hour >= :start AND hour < :end AND team = ANY(CAST(:teams AS boolean[]))
    """
)
_VIEWS_PER_SPAN = text(
    f"""
    SELECT s.position, (
      SELECT COALESCE(sum(h.views), 0) FROM analytics_hours h
      WHERE h.scope_id = :scope AND h.hour >= s.start AND h.hour < s."end"
        AND h.team = ANY(CAST(:teams AS boolean[]))
    ) AS views
    FROM {SPANS}
    """
)
_IN_RANGE = text(
    f"""
    SELECT h.hour, h.viewers, h.sketch, h.peak_viewers, {", ".join(f"h.{name}" for name in ADDITIVE)}
    FROM analytics_hours h
    WHERE h.scope_id = :scope AND h.hour >= :start AND h.hour < :end AND h.team = ANY(CAST(:teams AS boolean[]))
    """
)
# An hour may hold only events (a player's event with no view): the first view's is the first with views.
_FIRST_HOUR = text(
    "SELECT min(hour) FROM analytics_hours "
    "WHERE scope_id = :scope AND team = ANY(CAST(:teams AS boolean[])) AND views > 0"
)


@dataclass(frozen=True)
class HourRow:
    """One folded hour of one scope and team: its figures, exact distinct viewers and their sketch.

    Hours carried over from the daily roll-ups (migration 0004) have no sketch; their count
    is a day's, exact for a video and a sum of videos' for the library.
    """

    figures: Figures
    viewers: int
    sketch: bytes | None


def fold_new(connection: Connection, start: datetime, end: datetime) -> set[int]:
    """Recompute every hour in [start, end) from raw rows, sketches and peaks of concurrent viewers included;
    return the scopes touched."""
    params = {"start": start, "end": end, "last": end - timedelta(microseconds=1)}
    connection.execute(_DELETE, params)
    connection.execute(_FOLD, params)
    return scopes_between(connection, start, end)


def raw_sketches(connection: Connection, start: datetime, end: datetime) -> dict[tuple[int, bool], bytes]:
    """Each scope's and team's sketch of the raw views of [start, end): the merge of its hours' sketches, built
    by PostgreSQL (a day's hundreds of hour sketches are not carried to Python and merged one by one)."""
    rows = connection.execute(_SPAN_SKETCHES, {"start": start, "end": end})
    return {(int(row.scope_id), bool(row.team)): bytes(row.sketch) for row in rows}


def scopes_between(connection: Connection, start: datetime, end: datetime) -> set[int]:
    """The scopes with folded hours in [start, end)."""
    return {int(row.scope_id) for row in connection.execute(_TOUCHED, {"start": start, "end": end})}


def all_time_figures(connection: Connection, scopes: list[int]) -> dict[tuple[int, bool], Figures]:
    """The summed figures of every hour of each scope and team."""
    rows = connection.execute(_ALL_TIME, {"scopes": scopes})
    return {(int(row.scope_id), bool(row.team)): figures_of(row) for row in rows}


def refresh_progress(connection: Connection, start: datetime, end: datetime) -> set[int]:
    """Bring watch time and completions of hours in [start, end) up to date; return the scopes changed."""
    if end <= start:
        return set()
    return {int(row.scope_id) for row in connection.execute(_PROGRESS, {"start": start, "end": end})}


def figures_by_scope(connection: Connection, start: datetime, end: datetime) -> dict[tuple[int, bool], Figures]:
    """The summed figures of every scope and team over the hours [start, end)."""
    rows = connection.execute(_BY_SCOPE, {"start": start, "end": end})
    return {(int(row.scope_id), bool(row.team)): figures_of(row) for row in rows}


def figures_between(
    connection: Connection, scope: int, start: datetime, end: datetime, teams: tuple[bool, ...]
) -> Figures:
    """The summed figures of the folded hours in [start, end)."""
    return figures_of(
        connection.execute(_SUM, {"scope": scope, "start": start, "end": end, "teams": list(teams)}).one()
    )


def views_per_span(
    connection: Connection, scope: int, spans: list[tuple[datetime, datetime]], teams: tuple[bool, ...]
) -> dict[int, int]:
    """The folded views of each span of whole hours (0-based position), in one statement."""
    params = {"scope": scope, "teams": list(teams), **span_params(spans)}
    return {int(row.position) - 1: int(row.views) for row in connection.execute(_VIEWS_PER_SPAN, params)}


def in_range(
    connection: Connection, scope: int, start: datetime, end: datetime, teams: tuple[bool, ...]
) -> list[tuple[datetime, HourRow]]:
    """Every folded hour of [start, end) (for points not materialised as days), one index range scan."""
    rows = connection.execute(_IN_RANGE, {"scope": scope, "start": start, "end": end, "teams": list(teams)})
    return [(row.hour, HourRow(figures_of(row), int(row.viewers), row.sketch)) for row in rows]


def first_hour(connection: Connection, scope: int, teams: tuple[bool, ...]) -> datetime | None:
    return connection.execute(_FIRST_HOUR, {"scope": scope, "teams": list(teams)}).scalar()
