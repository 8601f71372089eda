"""All-time figures per scope (each video, and 0 for the library) and top videos.

The refresh keeps them: additive figures summed from the hours, and a sketch of all the
scope's viewers, merged with each fold's new hours (merging a viewer twice changes
nothing, so refolding is safe). Every answer adds the raw tail to them when it is asked
(``services.analytics.current`` for a page of videos, ``combine`` for a report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.domain.figures import Figures
from chalicelib.repositories.analytics.figures import COUNTED_VIEWS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class TotalRow:
    scope_id: int
    team: bool
    figures: Figures
    viewers: int
    viewers_exact: bool
    sketch: bytes | None
    updated_at: datetime | None


@dataclass(frozen=True)
class TopRow:
    video_id: int
    title: str | None
    views: int
    watch_time_seconds: int
    completed_views: int
    viewers: int

    @property
    def completion_rate(self) -> float:
        return self.completed_views * 100 / self.views if self.views else 0.0


_LEGACY_VIEWERS = text(
    """
    SELECT scope_id, team, sum(viewers) AS viewers FROM analytics_hours
    WHERE scope_id = ANY(CAST(:scopes AS int[])) AND hour < :before AND sketch IS NULL
    GROUP BY scope_id, team
    """
)
_FIRST_HOURS = text(
    "SELECT scope_id, min(hour) AS first_hour FROM analytics_hours WHERE scope_id = ANY(CAST(:scopes AS int[])) "
    "GROUP BY scope_id"
)
_NEW_HOUR_SKETCHES = text(
    """
    SELECT scope_id, team, sketch FROM analytics_hours
    WHERE scope_id = ANY(CAST(:scopes AS int[])) AND hour >= :start AND hour < :end AND sketch IS NOT NULL
    """
)
_WRITE = text(
    """
    INSERT INTO analytics_totals AS t (scope_id, team, views, watch_time_seconds, completed_views, viewers,
                                       viewers_exact, sketch, updated_at)
    SELECT u.*, now() FROM unnest(CAST(:scopes AS int[]), CAST(:teams AS boolean[]), CAST(:views AS bigint[]),
                                  CAST(:watch AS bigint[]), CAST(:completed AS bigint[]), CAST(:viewers AS bigint[]),
                                  CAST(:exact AS boolean[]), CAST(:sketches AS bytea[]))
         AS u(scope_id, team, views, watch_time_seconds, completed_views, viewers, viewers_exact, sketch)
    ON CONFLICT (scope_id, team) DO UPDATE SET
      views = EXCLUDED.views, watch_time_seconds = EXCLUDED.watch_time_seconds,
      completed_views = EXCLUDED.completed_views, viewers = EXCLUDED.viewers,
      viewers_exact = EXCLUDED.viewers_exact, sketch = EXCLUDED.sketch, updated_at = EXCLUDED.updated_at
    """
)
_READ = text(
    """
    SELECT scope_id, team, views, watch_time_seconds, completed_views, viewers, viewers_exact, sketch, updated_at
    FROM analytics_totals WHERE scope_id = ANY(CAST(:scopes AS int[])) AND team = ANY(CAST(:teams AS boolean[]))
    """
)
_TOP = {
    metric: text(
        f"""
        WITH tail AS (
          SELECT video_id, count(*) AS views, sum(watch_time_seconds) AS watch_time_seconds,
                 count(*) FILTER (WHERE completed) AS completed_views, 0 AS viewers
          FROM {COUNTED_VIEWS} vw WHERE created_at >= :since AND is_team = ANY(CAST(:teams AS boolean[]))
          GROUP BY video_id
        ),
        folded AS (
          SELECT scope_id AS video_id, views, watch_time_seconds, completed_views, viewers
          FROM analytics_totals WHERE scope_id > 0 AND team = ANY(CAST(:teams AS boolean[]))
        ),
        ranked AS (
          SELECT video_id, sum(views) AS views, sum(watch_time_seconds) AS watch_time_seconds,
                 sum(completed_views) AS completed_views, sum(viewers) AS viewers
          FROM (SELECT * FROM folded UNION ALL SELECT * FROM tail) AS parts
          GROUP BY video_id
          ORDER BY {order} DESC, video_id
          LIMIT :limit
        )
        SELECT v.id AS video_id, v.title, ranked.views, ranked.watch_time_seconds, ranked.completed_views,
               ranked.viewers
        FROM ranked JOIN videos v ON v.id = ranked.video_id
        ORDER BY ranked.{order} DESC, v.id
        """
    )
    for metric, order in (("views", "views"), ("watchTime", "watch_time_seconds"))
}


def legacy_viewers(connection: Connection, scopes: list[int], before: datetime) -> dict[tuple[int, bool], int]:
    """Viewers of the scopes' hours carried over from daily roll-ups (no sketch): added to estimates."""
    rows = connection.execute(_LEGACY_VIEWERS, {"scopes": scopes, "before": before})
    return {(int(row.scope_id), bool(row.team)): int(row.viewers) for row in rows}


def first_hours(connection: Connection, scopes: list[int]) -> dict[int, datetime]:
    return {int(row.scope_id): row.first_hour for row in connection.execute(_FIRST_HOURS, {"scopes": scopes})}


def new_hour_sketches(
    connection: Connection, scopes: list[int], start: datetime, end: datetime
) -> list[tuple[int, bool, bytes]]:
    rows = connection.execute(_NEW_HOUR_SKETCHES, {"scopes": scopes, "start": start, "end": end})
    return [(int(row.scope_id), bool(row.team), bytes(row.sketch)) for row in rows]


def write(connection: Connection, rows: list[TotalRow]) -> None:
    if not rows:
        return
    connection.execute(
        _WRITE,
        {
            "scopes": [row.scope_id for row in rows],
            "teams": [row.team for row in rows],
            "views": [row.figures.views for row in rows],
            "watch": [row.figures.watch_time_seconds for row in rows],
            "completed": [row.figures.completed_views for row in rows],
            "viewers": [row.viewers for row in rows],
            "exact": [row.viewers_exact for row in rows],
            "sketches": [row.sketch for row in rows],
        },
    )


def read(connection: Connection, scope: int, teams: tuple[bool, ...]) -> list[TotalRow]:
    return read_many(connection, [scope], teams)


def read_many(connection: Connection, scopes: list[int], teams: tuple[bool, ...] = (False, True)) -> list[TotalRow]:
    rows = connection.execute(_READ, {"scopes": scopes, "teams": list(teams)})
    return [
        TotalRow(
            int(row.scope_id),
            bool(row.team),
            Figures(int(row.views), int(row.watch_time_seconds), int(row.completed_views)),
            int(row.viewers),
            bool(row.viewers_exact),
            row.sketch,
            row.updated_at,
        )
        for row in rows
    ]


def top(connection: Connection, metric: str, limit: int, teams: tuple[bool, ...], since: datetime) -> list[TopRow]:
    """Videos ranked on all-time views or watch time: stored totals plus raw rows newer than ``since``."""
    params = {"limit": limit, "teams": list(teams), "since": since}
    return [
        TopRow(
            int(row.video_id),
            row.title,
            int(row.views),
            int(row.watch_time_seconds),
            int(row.completed_views),
            int(row.viewers),
        )
        for row in connection.execute(_TOP[metric], params)
    ]
