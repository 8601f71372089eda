"""Audience retention: for each hundredth of a video, the share of its views that played it.

Folded per UTC day by the refresh (``repositories.analytics.audience``), so a busy
video's curve costs one row per day of the range; views of the last two days add the
parts they played since the last refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.db.engine import snapshot
from chalicelib.domain import errors
from chalicelib.repositories.analytics import audience, catalog, state
from chalicelib.services.analytics import definitions
from chalicelib.services.analytics.combine import Frame, first_view, views_between
from chalicelib.services.analytics.folding import PROGRESS_WINDOW, kept_from
from chalicelib.services.analytics.periods import floor_hour
from chalicelib.services.analytics.reports import MAX_RANGE_DAYS


@dataclass(frozen=True)
class Curve:
    video_id: int
    duration: int
    views: int
    viewers: list[int]  # per hundredth
    first: date
    last: date
    as_of: datetime
    definitions: dict[str, str]


def curve(video_id: int, first: date | None, last: date | None, include_team: bool) -> Curve:
    """The retention curve of the views started in the UTC days [first, last] (default: all, to today)."""
    teams = (False, True) if include_team else (False,)
    with snapshot() as connection:
        duration = catalog.duration(connection, video_id)
        if duration is None:
            raise errors.NotFound("Video not found")
        instants = state.instants(connection)
        frame = Frame(video_id, teams, instants.get(state.FOLDED_UNTIL), kept_from(instants))
        last = last or datetime.now(UTC).date()
        started = first_view(connection, frame)
        first = first or (min(started.astimezone(UTC).date(), last) if started else last)
        _check(first, last)
        start, end = _midnight(first), _midnight(last + timedelta(days=1))
        views = views_between(connection, frame, start, end)
        viewers = audience.counted(connection, video_id, first, last, teams)
        recent = max(start, floor_hour(frame.folded_until) - PROGRESS_WINDOW) if frame.folded_until else start
        if recent < end:
            uncounted = audience.uncounted(connection, video_id, recent, end, teams)
            viewers = [a + b for a, b in zip(viewers, uncounted, strict=True)]
    as_of = frame.folded_until or datetime.now(UTC)
    return Curve(video_id, duration, views, viewers, first, last, as_of, definitions.for_retention())


def _check(first: date, last: date) -> None:
    if last < first:
        raise errors.InvalidInput("endDate must not be before startDate")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise errors.InvalidInput(f"The date range may span at most {MAX_RANGE_DAYS} days")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
