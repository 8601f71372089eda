"""Calendar days of the time zones in use, materialised from the hours by the refresh.

A report over days reads one row per day (and team) instead of the day's 23-25 hours:
the figures summed, the exact distinct viewers counted from raw rows when the day was
folded (``viewers_exact``), and the day's viewer sketch merged from its hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.domain.figures import Figures
from chalicelib.repositories.analytics.figures import ADDITIVE, EVENT_COLUMNS, figures_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class DayRow:
    """One materialised day of one scope and team."""

    scope_id: int
    day: date
    team: bool
    figures: Figures
    viewers: int
    viewers_exact: bool
    sketch: bytes | None = None
    # On the team row: exact distinct viewers of the day's team and other views together (None: not counted).
    viewers_with_team: int | None = None


_HOUR_SKETCHES = text(
    "SELECT scope_id, team, sketch FROM analytics_hours WHERE hour >= :start AND hour < :end AND sketch IS NOT NULL"
)
_SCOPES_DAY_SKETCHES = text(
    """
    SELECT scope_id, team, sketch FROM analytics_days
    WHERE zone = :zone AND day >= :first AND day <= :last AND scope_id = ANY(CAST(:scopes AS int[]))
      AND sketch IS NOT NULL
    """
)
_LEGACY_VIEWERS = text(
    """
    SELECT scope_id, team, sum(viewers) AS viewers, count(*) AS hours FROM analytics_hours
    WHERE hour >= :start AND hour < :end AND sketch IS NULL AND viewers > 0
    GROUP BY scope_id, team
    """
)
_CLEAR = text("DELETE FROM analytics_days WHERE zone = :zone AND day = :day")
_PROGRESS = text(
    """
    UPDATE analytics_days d SET watch_time_seconds = s.watch_time_seconds, completed_views = s.completed_views
    FROM (SELECT scope_id, team, sum(watch_time_seconds) AS watch_time_seconds,
                 sum(completed_views) AS completed_views
          FROM analytics_hours WHERE hour >= :start AND hour < :end GROUP BY scope_id, team) AS s
    WHERE d.zone = :zone AND d.day = :day AND d.scope_id = s.scope_id AND d.team = s.team
      AND (d.watch_time_seconds, d.completed_views) IS DISTINCT FROM (s.watch_time_seconds, s.completed_views)
    """
)
# One array parameter per column: a whole day of every scope in one statement.
_COLUMN_TYPES = {
    "scope_id": "int",
    "team": "boolean",
    "viewers": "int",
    "viewers_exact": "boolean",
    "sketch": "bytea",
    "viewers_with_team": "int",
    "views": "int",
    "watch_time_seconds": "bigint",
    "completed_views": "int",
    "peak_viewers": "int",
    **dict.fromkeys(EVENT_COLUMNS, "int"),
}
_WRITE = text(
    f"""
    INSERT INTO analytics_days (zone, day, {", ".join(_COLUMN_TYPES)})
    SELECT :zone, :day, {", ".join(f"u.{name}" for name in _COLUMN_TYPES)}
    FROM unnest({", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _COLUMN_TYPES.items())})
         AS u({", ".join(_COLUMN_TYPES)})
    """
)
# Every column here is in analytics_days_figures_idx: an index-only scan (the sketch is read apart).
_READ = text(
    f"""
    SELECT day, team, viewers, viewers_exact, viewers_with_team, peak_viewers, {", ".join(ADDITIVE)}
    FROM analytics_days
    WHERE scope_id = :scope AND zone = :zone AND day >= :first AND day <= :last
      AND team = ANY(CAST(:teams AS boolean[]))
    ORDER BY day, team
    """
)
_DAY_SKETCHES = text(
    """
    SELECT day, team, sketch FROM analytics_days
    WHERE scope_id = :scope AND zone = :zone AND day = ANY(CAST(:days AS date[]))
      AND team = ANY(CAST(:teams AS boolean[])) AND sketch IS NOT NULL
    """
)


def hour_sketches(connection: Connection, start: datetime, end: datetime) -> Iterator[tuple[int, bool, bytes]]:
    for row in connection.execute(_HOUR_SKETCHES, {"start": start, "end": end}):
        yield int(row.scope_id), bool(row.team), bytes(row.sketch)


def day_sketches(
    connection: Connection, zone: str, scopes: list[int], first: date, last: date
) -> list[tuple[int, bool, bytes]]:
    """The sketches of the scopes' days [first, last] of ``zone``."""
    params = {"zone": zone, "scopes": scopes, "first": first, "last": last}
    return [
        (int(row.scope_id), bool(row.team), bytes(row.sketch))
        for row in connection.execute(_SCOPES_DAY_SKETCHES, params)
    ]


def legacy_viewers(connection: Connection, start: datetime, end: datetime) -> dict[tuple[int, bool], tuple[int, int]]:
    """``(viewers, rows)`` of hours folded before sketches existed (one row per legacy UTC day): added, not merged."""
    rows = connection.execute(_LEGACY_VIEWERS, {"start": start, "end": end})
    return {(int(row.scope_id), bool(row.team)): (int(row.viewers), int(row.hours)) for row in rows}


def replace_day(connection: Connection, zone: str, day: date, rows: list[DayRow]) -> None:
    """Write a zone's day for every scope at once (one statement), replacing what was there."""
    connection.execute(_CLEAR, {"zone": zone, "day": day})
    if not rows:
        return
    columns: dict[str, list[object]] = {
        "scope_id": [row.scope_id for row in rows],
        "team": [row.team for row in rows],
        "viewers": [row.viewers for row in rows],
        "viewers_exact": [row.viewers_exact for row in rows],
        "sketch": [row.sketch for row in rows],
        "viewers_with_team": [row.viewers_with_team for row in rows],
        "views": [row.figures.views for row in rows],
        "watch_time_seconds": [row.figures.watch_time_seconds for row in rows],
        "completed_views": [row.figures.completed_views for row in rows],
        "peak_viewers": [row.figures.peak_viewers for row in rows],
    }
    for position, name in enumerate(EVENT_COLUMNS):
        columns[name] = [row.figures.events[position] for row in rows]
    connection.execute(_WRITE, {"zone": zone, "day": day, **columns})


def refresh_progress(connection: Connection, zone: str, day: date, start: datetime, end: datetime) -> None:
    """Bring a day's watch time and completions up to its hours' (late heartbeats), nothing else."""
    connection.execute(_PROGRESS, {"zone": zone, "day": day, "start": start, "end": end})


def read(
    connection: Connection, scope: int, zone: str, first: date, last: date, teams: tuple[bool, ...]
) -> list[DayRow]:
    """A scope's days in [first, last], without their sketches (see :func:`sketches`)."""
    params = {"scope": scope, "zone": zone, "first": first, "last": last, "teams": list(teams)}
    return [
        DayRow(
            scope,
            row.day,
            bool(row.team),
            figures_of(row),
            int(row.viewers),
            bool(row.viewers_exact),
            viewers_with_team=row.viewers_with_team,
        )
        for row in connection.execute(_READ, params)
    ]


def sketches(
    connection: Connection, scope: int, zone: str, days: list[date], teams: list[bool]
) -> dict[tuple[date, bool], bytes]:
    """The viewer sketches of a scope's ``days`` and ``teams``, by ``(day, team)`` (rows without one left out)."""
    params = {"scope": scope, "zone": zone, "days": days, "teams": teams}
    return {(row.day, bool(row.team)): bytes(row.sketch) for row in connection.execute(_DAY_SKETCHES, params)}
