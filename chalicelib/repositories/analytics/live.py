"""Concurrent viewers: views whose last activity is recent, now and minute by minute (peaks).

A view is live while its last view, event or heartbeat is at most ``LIVE_SECONDS`` old
(``chalicelib/domain/audience.py``). The queries scan only the views of the last
``LIVE_HORIZON_HOURS`` (the ``created_at`` index), so their cost follows a day's traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.domain.audience import LIVE_HORIZON_HOURS, LIVE_SECONDS
from chalicelib.repositories.analytics.figures import COUNTED_VIEWS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_LAST_ACTIVITY = "COALESCE(vw.last_seen_at, vw.created_at)"
_TEAMS = "vw.is_team = ANY(CAST(:teams AS boolean[]))"
_RECENT = f"""vw.created_at > now() - interval '{LIVE_HORIZON_HOURS} hours'
    AND {_LAST_ACTIVITY} > now() - interval '{LIVE_SECONDS} seconds'
    AND vw.ended_at IS NULL
    AND {_TEAMS}"""


@dataclass(frozen=True)
class LiveVideo:
    video_id: int
    title: str | None
    viewers: int


_ONE = text(f"SELECT count(*) FROM {COUNTED_VIEWS} vw WHERE vw.video_id = :video_id AND {_RECENT}")
_ALL = text(
    f"""
    SELECT vw.video_id, v.title, count(*) AS viewers, sum(count(*)) OVER () AS total
    FROM {COUNTED_VIEWS} vw JOIN videos v ON v.id = vw.video_id
    WHERE {_RECENT}
    GROUP BY vw.video_id, v.title
    ORDER BY viewers DESC, vw.video_id
    LIMIT :limit
    """
)
_NOW = text("SELECT now()")
# Minutes during which each view was live (from its start to its last activity), counted;
# up to :last, or to the transaction's now() when it is null.
_LAST = "COALESCE(CAST(:last AS timestamptz), now())"
_MINUTES = f"""
    WITH active AS (
      SELECT vw.video_id, vw.is_team AS team,
             greatest(date_trunc('minute', vw.created_at), date_trunc('minute', CAST(:start AS timestamptz)))
               AS first_minute,
             least(date_trunc('minute', {_LAST_ACTIVITY}), date_trunc('minute', {_LAST}))
               AS last_minute
      FROM {COUNTED_VIEWS} vw
      WHERE vw.created_at >= CAST(:start AS timestamptz) - interval '{LIVE_HORIZON_HOURS} hours'
        AND vw.created_at <= {_LAST} AND {_LAST_ACTIVITY} >= :start {{scope}}
    )
    SELECT {{columns}}, count(*) AS viewers
    FROM active, generate_series(first_minute, last_minute, interval '1 minute') AS minute
    GROUP BY {{grouping}}
"""
_PER_VIDEO_AND_LIBRARY = "GROUPING SETS ((video_id, team, minute), (team, minute))"
# Each hour's busiest minute of [:start, :last], per video and for the library (``scope_id, hour, team,
# peak_viewers``): written by the fold with the hour's other figures (``hours.fold_new``).
PEAKS_SQL = f"""
    SELECT COALESCE(video_id, 0) AS scope_id, date_trunc('hour', minute, 'UTC') AS hour, team,
           max(viewers) AS peak_viewers
    FROM ({_MINUTES.format(scope="", columns="video_id, team, minute", grouping=_PER_VIDEO_AND_LIBRARY)}) AS per_minute
    GROUP BY 1, 2, 3
"""
_PER_TEAM = "team, minute"
_SCOPE_MINUTES = {
    library: text(
        f"""
        WITH per_minute AS ({_MINUTES.format(scope=f"{scope} AND {_TEAMS}", columns=_PER_TEAM, grouping=_PER_TEAM)})
        SELECT minute, max(viewers) AS viewers FROM per_minute GROUP BY minute
        """
    )
    for library, scope in ((True, ""), (False, "AND vw.video_id = :scope"))
}


def now(connection: Connection) -> datetime:
    return connection.execute(_NOW).scalar_one()


def viewers_of(connection: Connection, video_id: int, teams: tuple[bool, ...]) -> int:
    return int(connection.execute(_ONE, {"video_id": video_id, "teams": list(teams)}).scalar() or 0)


def busiest(connection: Connection, teams: tuple[bool, ...], limit: int) -> tuple[int, list[LiveVideo]]:
    """``(live viewers of the whole library, the busiest videos first)``."""
    rows = connection.execute(_ALL, {"teams": list(teams), "limit": limit}).all()
    total = int(rows[0].total) if rows else 0
    return total, [LiveVideo(int(row.video_id), row.title, int(row.viewers)) for row in rows]


def minutes(connection: Connection, scope: int, start: datetime, teams: tuple[bool, ...]) -> list[tuple[datetime, int]]:
    """Concurrent viewers of each minute since ``start`` (the tail after the last fold); with both team
    flags, the larger group's, as the folded hours keep them."""
    params = {"scope": scope, "start": start, "last": None, "teams": list(teams)}
    return [(row.minute, int(row.viewers)) for row in connection.execute(_SCOPE_MINUTES[scope == 0], params)]
