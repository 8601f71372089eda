"""Audience retention: how many views played each hundredth of a video, per UTC day.

Each view's ``played`` bitmap grows while it is watched (``chalicelib/domain/audience.py``). The
refresh adds the bits it has not counted yet (``played`` minus ``played_folded``) to the
day of the view's start and marks them counted, in one statement: run twice, it counts
nothing twice. A curve over a range then reads one row per day, plus the bits of recent
views not counted yet.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.domain.audience import POINTS, ZEROS
from chalicelib.repositories.analytics.figures import COUNTED_VIEWS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_UNCOUNTED = f"vw.played & ~COALESCE(vw.played_folded, {ZEROS})"


def _counted_per_day(views: str, bits: str) -> str:
    """``counted``: per video, UTC day and team, how many of the rows of ``views`` have each of the 100 ``bits`` set."""
    return f"""counted AS (
      SELECT video_id, day, team, array_agg(n ORDER BY point) AS counts FROM (
        SELECT c.video_id, c.day, c.team, point,
               count(*) FILTER (WHERE substring(c.{bits} FROM point + 1 FOR 1) = B'1') AS n
        FROM {views} c CROSS JOIN generate_series(0, {POINTS - 1}) AS point
        GROUP BY 1, 2, 3, 4
      ) AS per_point
      GROUP BY 1, 2, 3
    )"""


_FOLD = text(
    f"""
    WITH changed AS (
      SELECT vw.id, vw.video_id, vw.is_team AS team, CAST(vw.created_at AT TIME ZONE 'UTC' AS date) AS day,
             vw.played, {_UNCOUNTED} AS new_bits
      FROM {COUNTED_VIEWS} vw
      WHERE vw.created_at >= :since AND vw.created_at < :end AND vw.played IS NOT NULL
        AND vw.played IS DISTINCT FROM vw.played_folded
    ),
    marked AS (
      UPDATE video_views vw SET played_folded = c.played FROM changed c WHERE vw.id = c.id RETURNING 1
    ),
    {_counted_per_day("changed", "new_bits")}
    INSERT INTO analytics_audience_days AS a (video_id, day, team, counts)
    SELECT video_id, day, team, counts FROM counted
    ON CONFLICT (video_id, day, team) DO UPDATE SET counts = ARRAY(
      SELECT x + y FROM unnest(a.counts, EXCLUDED.counts) WITH ORDINALITY AS t(x, y, i) ORDER BY i
    )
    """
)
# Takes back what the refresh counted of a person's views about to be deleted (``played_folded``), per UTC day.
_FORGET = text(
    f"""
    WITH gone AS (
      SELECT vw.video_id, vw.is_team AS team, CAST(vw.created_at AT TIME ZONE 'UTC' AS date) AS day, vw.played_folded
      FROM video_views vw
      WHERE vw.user_id = :user_id AND vw.played_folded IS NOT NULL
    ),
    {_counted_per_day("gone", "played_folded")}
    UPDATE analytics_audience_days a SET counts = ARRAY(
      SELECT greatest(x - y, 0) FROM unnest(a.counts, c.counts) WITH ORDINALITY AS t(x, y, i) ORDER BY i
    )
    FROM counted c
    WHERE a.video_id = c.video_id AND a.day = c.day AND a.team = c.team
    """
)
_DAYS = text(
    """
    SELECT counts FROM analytics_audience_days
    WHERE video_id = :video_id AND day >= :first AND day <= :last AND team = ANY(CAST(:teams AS boolean[]))
    """
)
_UNCOUNTED_BITS = text(
    f"""
    SELECT {_UNCOUNTED} AS bits FROM {COUNTED_VIEWS} vw
    WHERE vw.video_id = :video_id AND vw.created_at >= :start AND vw.created_at < :end
      AND vw.is_team = ANY(CAST(:teams AS boolean[])) AND vw.played IS NOT NULL
      AND vw.played IS DISTINCT FROM vw.played_folded
    """
)


def fold(connection: Connection, since: datetime, end: datetime) -> None:
    """Count the new bits of views started in [since, end) into their days."""
    connection.execute(_FOLD, {"since": since, "end": end})


def forget_user(connection: Connection, user_id: int) -> None:
    """Take the counted hundredths of the views carrying ``user_id`` (about to be deleted) out of their days."""
    connection.execute(_FORGET, {"user_id": user_id})


def counted(connection: Connection, video_id: int, first: date, last: date, teams: tuple[bool, ...]) -> list[int]:
    """Views that played each hundredth, over the UTC days [first, last], as folded."""
    totals = [0] * POINTS
    params = {"video_id": video_id, "first": first, "last": last, "teams": list(teams)}
    for row in connection.execute(_DAYS, params):
        totals = [a + b for a, b in zip(totals, row.counts, strict=True)]
    return totals


def uncounted(
    connection: Connection, video_id: int, start: datetime, end: datetime, teams: tuple[bool, ...]
) -> list[int]:
    """The bits the refresh has not counted yet, of views started in [start, end): recent views only."""
    totals = [0] * POINTS
    params = {"video_id": video_id, "start": start, "end": end, "teams": list(teams)}
    for row in connection.execute(_UNCOUNTED_BITS, params):
        for point, bit in enumerate(row.bits):
            if bit == "1":
                totals[point] += 1
    return totals
