"""Reading raw views and events: the rows newer than the last fold, and exact counts where cheap.

Reports take everything before the fold watermark from roll-ups and everything after it
from here (the tail: about one refresh interval of traffic), so figures include the last
minutes without re-reading history. Exact distinct counts over raw rows are only asked
for when the views involved are few (see ``services.analytics.combine``), or by the
refresh, once per day folded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import text

from chalicelib.domain.sketch import VIEWER_KEY_SQL
from chalicelib.repositories.analytics.figures import COUNTED_VIEWS, SPANS, span_params

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import TextClause

LIBRARY = 0
_VIEWER = VIEWER_KEY_SQL.format(p="vw.")
_TEAMS = "AND {alias}.is_team = ANY(CAST(:teams AS boolean[]))"


# Named tuples rather than dataclasses: a busy tail is thousands of rows per report, and a
# tuple is built several times faster than a frozen dataclass.
class TailView(NamedTuple):
    created_at: datetime
    viewer: str
    team: bool
    watch_time_seconds: int
    completed: bool
    referer: str | None


class TailEvent(NamedTuple):
    created_at: datetime
    event_type: str
    team: bool


def _views(columns: str) -> Callable[[bool], str]:
    """A statement over ``video_views vw`` of one video (``:scope``) or, for the library, of all."""

    def build(library: bool) -> str:
        scope = "" if library else "AND vw.video_id = :scope"
        return f"""SELECT {columns} FROM {COUNTED_VIEWS} vw
                   WHERE vw.created_at >= :start AND vw.created_at < :end {_TEAMS.format(alias="vw")} {scope}"""

    return build


# A tail comes back as one JSON array of row arrays, which pg8000 hands to the json module (in C):
# it parses a result of rows one by one in Python (a busy tail has thousands of rows). Times are
# integer microseconds since the epoch: exact, unlike a float.
_EPOCH_OF = "(extract(epoch FROM {column}) * 1000000)::int8"
_AS_JSON = "COALESCE(json_agg(json_build_array({columns})), '[]') AS rows"
_TAIL_VIEWS = _views(
    _AS_JSON.format(
        columns=f"{_EPOCH_OF.format(column='vw.created_at')}, {_VIEWER}, vw.is_team, vw.watch_time_seconds, "
        "vw.completed, vw.referer"
    )
)
_EXACT = _views(f"count(DISTINCT {_VIEWER})")
_COUNT = _views("count(*)")
_FIRST = _views("min(vw.created_at)")


def _tail_events(library: bool) -> str:
    scope = "" if library else "AND e.video_id = :scope"
    columns = f"{_EPOCH_OF.format(column='e.created_at')}, e.event_type, e.is_team"
    return f"""SELECT {_AS_JSON.format(columns=columns)} FROM video_events e
               WHERE e.created_at >= :start AND e.created_at < :end {_TEAMS.format(alias="e")} {scope}"""


def _per_span(aggregate: str) -> Callable[[bool], str]:
    """``aggregate`` over the views of each span, in one statement."""

    # A subquery per span: each is one index range scan, however far apart the spans are
    # (a join would scan everything between the first span and the last).
    def build(library: bool) -> str:
        scope = "" if library else "AND vw.video_id = :scope"
        return f"""
        SELECT s.position, (
          SELECT {aggregate} FROM {COUNTED_VIEWS} vw
          WHERE vw.created_at >= s.start AND vw.created_at < s."end" {_TEAMS.format(alias="vw")} {scope}
        ) AS found
        FROM {SPANS}
        """

    return build


_VIEWERS_PER_SPAN = _per_span(f"count(DISTINCT {_VIEWER})")
_VIEWS_PER_SPAN = _per_span("count(*)")


# team is NULL on the rows counting team and other views together.
_BY_SCOPE = text(
    f"""
    SELECT COALESCE(vw.video_id, 0) AS scope_id, vw.is_team AS team, count(DISTINCT {_VIEWER}) AS viewers
    FROM {COUNTED_VIEWS} vw
    WHERE vw.created_at >= :start AND vw.created_at < :end
    GROUP BY GROUPING SETS ((vw.video_id, vw.is_team), (vw.is_team), (vw.video_id), ())
    """
)
_OF_VIDEOS = text(
    f"""
    SELECT vw.video_id, vw.is_team AS team, count(DISTINCT {_VIEWER}) AS viewers FROM {COUNTED_VIEWS} vw
    WHERE vw.video_id = ANY(CAST(:videos AS int[])) AND vw.created_at < :end
    GROUP BY vw.video_id, vw.is_team
    """
)
_OLDEST = text("SELECT least((SELECT min(created_at) FROM video_views), (SELECT min(created_at) FROM video_events))")
_EVER = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


@cache
def _statement(build: Callable[[bool], str], library: bool) -> TextClause:
    return text(build(library))


def _params(scope: int, start: datetime | None, end: datetime | None, teams: tuple[bool, ...]) -> dict[str, object]:
    return {"scope": scope, "start": start or _EVER, "end": end or _NEVER, "teams": list(teams)}


def _instant(micros: int) -> datetime:
    return _EVER + timedelta(microseconds=micros)


def oldest(connection: Connection) -> datetime | None:
    """The oldest raw row still kept."""
    return connection.execute(_OLDEST).scalar()


def tail_views(
    connection: Connection, scope: int, start: datetime | None, end: datetime | None, teams: tuple[bool, ...]
) -> list[TailView]:
    """Views of [start, end) (None: unbounded), each with its viewer key."""
    rows = _json_rows(connection, _statement(_TAIL_VIEWS, scope == LIBRARY), _params(scope, start, end, teams))
    return [
        TailView(_instant(micros), viewer, team, watch_time, completed, referer)
        for micros, viewer, team, watch_time, completed, referer in rows
    ]


def tail_events(
    connection: Connection, scope: int, start: datetime | None, end: datetime | None, teams: tuple[bool, ...]
) -> list[TailEvent]:
    rows = _json_rows(connection, _statement(_tail_events, scope == LIBRARY), _params(scope, start, end, teams))
    return [TailEvent(_instant(micros), event_type, team) for micros, event_type, team in rows]


def _json_rows(connection: Connection, statement: TextClause, params: dict[str, object]) -> list[list[Any]]:
    """The rows of a statement answering one ``json`` array (pg8000 parses the json type)."""
    rows: list[list[Any]] = connection.execute(statement, params).scalar_one()
    return rows


def exact_viewers(
    connection: Connection, scope: int, start: datetime | None, end: datetime | None, teams: tuple[bool, ...]
) -> int:
    """Distinct viewers among the views of [start, end): the cost grows with those views, so ask only when few."""
    statement = _statement(_EXACT, scope == LIBRARY)
    return int(connection.execute(statement, _params(scope, start, end, teams)).scalar() or 0)


def exact_viewers_per_span(
    connection: Connection, scope: int, spans: Iterable[tuple[datetime, datetime]], teams: tuple[bool, ...]
) -> dict[int, int]:
    """Distinct viewers of each span (0-based position), in one statement."""
    return _each_span(connection, _VIEWERS_PER_SPAN, scope, spans, teams)


def count_views_per_span(
    connection: Connection, scope: int, spans: Iterable[tuple[datetime, datetime]], teams: tuple[bool, ...]
) -> dict[int, int]:
    """Views started in each span (0-based position), in one statement."""
    return _each_span(connection, _VIEWS_PER_SPAN, scope, spans, teams)


def _each_span(
    connection: Connection,
    build: Callable[[bool], str],
    scope: int,
    spans: Iterable[tuple[datetime, datetime]],
    teams: tuple[bool, ...],
) -> dict[int, int]:
    params = {"scope": scope, "teams": list(teams), **span_params(spans)}
    rows = connection.execute(_statement(build, scope == LIBRARY), params)
    return {int(row.position) - 1: int(row.found) for row in rows}


def exact_viewers_by_scope(
    connection: Connection, start: datetime, end: datetime
) -> dict[tuple[int, bool | None], int]:
    """Distinct viewers of [start, end) for every video and the library (0), per team flag and (``None``) of
    both kinds together: once per folded day."""
    rows = connection.execute(_BY_SCOPE, {"start": start, "end": end})
    return {(int(row.scope_id), None if row.team is None else bool(row.team)): int(row.viewers) for row in rows}


def exact_viewers_of_videos(connection: Connection, videos: list[int], end: datetime) -> dict[tuple[int, bool], int]:
    """All-time distinct viewers (before ``end``) of each video and team flag: for videos with few views."""
    rows = connection.execute(_OF_VIDEOS, {"videos": videos, "end": end})
    return {(int(row.video_id), bool(row.team)): int(row.viewers) for row in rows}


def count_views(
    connection: Connection, scope: int, start: datetime | None, end: datetime | None, teams: tuple[bool, ...]
) -> int:
    statement = _statement(_COUNT, scope == LIBRARY)
    return int(connection.execute(statement, _params(scope, start, end, teams)).scalar() or 0)


def first_view(connection: Connection, scope: int, teams: tuple[bool, ...]) -> datetime | None:
    return connection.execute(_statement(_FIRST, scope == LIBRARY), _params(scope, None, None, teams)).scalar()
