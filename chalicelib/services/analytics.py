"""Admin analytics: per-video reports, registered viewers, stored aggregates, top videos, overview.

Definitions are the seed's: unique viewers = distinct user id, else distinct IP hash;
average watch time = total watch time / views; completion rate = completed views /
views x 100. Everything is aggregated by PostgreSQL (see repositories.analytics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import errors
from chalicelib.db.engine import get_engine
from chalicelib.repositories import analytics as repo
from chalicelib.repositories.analytics import Totals
from chalicelib.services.retention import first_kept_day, fold_closed_days

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_RANGE_DAYS = 3660
OVERVIEW_DAYS = 30
TOP_METRICS = ("views", "watchTime")
TOP_REFERRERS = 10


def today() -> date:
    return datetime.now(UTC).date()


def parse_day(raw: str | None, name: str) -> date | None:
    """An ISO date (``2026-11-26``) or date-time (its UTC day); 400 when it is neither."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > 40:
        raise errors.InvalidInput(f"{name} must be an ISO date (YYYY-MM-DD)")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.InvalidInput(f"{name} must be an ISO date (YYYY-MM-DD)") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


@dataclass(frozen=True)
class Report:
    """``GET /videos/{id}/analytics`` before it is turned into JSON."""

    video_id: int
    totals: Totals
    event_counts: dict[str, int]
    days: list[repo.DayRow]
    referrers: list[tuple[str, int]]


def _unique_from(connection: Connection) -> tuple[date, date]:
    """``(raw_from, unique_from)``: where raw rows start to count, and where exact distinct counting starts."""
    raw_from_day = repo.raw_from(connection)
    return raw_from_day, min(first_kept_day(), raw_from_day)


def video_report(video_id: int, start: date | None, end: date | None) -> Report:
    """Totals, events, a gap-free day series and top referrers over ``[start, end]`` (inclusive)."""
    with get_engine().connect() as connection, connection.begin():
        if not repo.video_exists(connection, video_id):
            raise errors.NotFound("Video not found")
        end = end or today()
        start = start or min(repo.data_start(connection, video_id) or end, end)
        _check_range(start, end)
        raw_from_day, unique_from = _unique_from(connection)
        window = repo.Window(video_id, start, end, raw_from_day, unique_from)
        days = repo.views_by_day(connection, window)
        exact_viewers = repo.distinct_viewers(connection, video_id, max(start, unique_from), end)
        events = repo.event_counts(connection, window)
        referrers = repo.top_referrers(connection, window, TOP_REFERRERS)
    totals = Totals(
        views=sum(day.views for day in days),
        # Days whose raw views retention deleted only keep their per-day distinct counts.
        unique_viewers=exact_viewers + sum(day.unique_viewers for day in days if day.day < unique_from),
        watch_time_seconds=sum(day.watch_time_seconds for day in days),
        completed_views=sum(day.completed_views for day in days),
    )
    return Report(video_id, totals, events, days, referrers)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise errors.InvalidInput("endDate must not be before startDate")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise errors.InvalidInput(f"The date range may span at most {MAX_RANGE_DAYS} days")


def registered_viewers(video_id: int, limit: int) -> list[Any]:
    with get_engine().connect() as connection, connection.begin():
        if not repo.video_exists(connection, video_id):
            raise errors.NotFound("Video not found")
        return repo.viewers(connection, video_id, limit)


def aggregate_video(video_id: int) -> Totals:
    """Recompute the video's all-time aggregates and store them on its row."""
    with get_engine().begin() as connection:
        raw_from_day, unique_from = _unique_from(connection)
        totals = repo.aggregate(connection, [video_id], raw_from_day, unique_from)
    if video_id not in totals:
        raise errors.NotFound("Video not found")
    return totals[video_id]


def refresh(lookback_seconds: int) -> dict[str, int]:
    """The scheduled refresh: fold closed days, re-aggregate recently active videos, library viewers."""
    days = fold_closed_days()
    with get_engine().begin() as connection:
        raw_from_day, unique_from = _unique_from(connection)
        video_ids = repo.recently_active_videos(connection, lookback_seconds)
        if video_ids:
            repo.aggregate(connection, video_ids, raw_from_day, unique_from)
        repo.refresh_library_viewers(connection, unique_from)
    return {"daysFolded": days, "videosRefreshed": len(video_ids)}


def reset(video_id: int) -> None:
    """Delete the video's views, events and roll-ups and zero its aggregates, in one transaction."""
    with get_engine().begin() as connection:
        if not repo.lock_video(connection, video_id):
            raise errors.NotFound("Video not found")
        repo.reset(connection, video_id)


def top_videos(metric: str, limit: int) -> list[Any]:
    with get_engine().connect() as connection, connection.begin():
        return repo.top(connection, metric, limit, repo.raw_from(connection))


@dataclass(frozen=True)
class Overview:
    total_videos: int
    published_videos: int
    totals: Totals
    views_last_24h: int
    views_last_7d: int
    views_last_30d: int
    days: list[Any]


def overview() -> Overview:
    """Library totals; distinct viewers come from the refresh's snapshot (computed now if there is none)."""
    end = today()
    start = end - timedelta(days=OVERVIEW_DAYS - 1)
    with get_engine().begin() as connection:
        raw_from_day, unique_from = _unique_from(connection)
        row = repo.overview(connection, raw_from_day)
        days = repo.overview_days(connection, start, end, raw_from_day)
        viewers = repo.library_viewers(connection)
        if viewers is None:
            viewers = repo.refresh_library_viewers(connection, unique_from)
    totals = Totals(int(row[2]), viewers, int(row[3]), int(row[4]))
    return Overview(int(row[0]), int(row[1]), totals, int(row[5]), int(row[6]), int(row[7]), days)
