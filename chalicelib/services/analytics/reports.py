"""Admin analytics reports: a video's figures over a range, the library overview, top videos.

Each report reads in one snapshot (``db.engine.snapshot``) and costs what its range
costs in days (or hours), never what it costs in views: see ``combine`` for how roll-ups
and the newest raw rows are put together, ``folding`` for how roll-ups are made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from chalicelib.db.engine import snapshot, transaction
from chalicelib.domain import errors
from chalicelib.domain.figures import Figures
from chalicelib.observability import logger
from chalicelib.repositories.analytics import catalog, raw, referrers, state, totals, viewers
from chalicelib.services.analytics import definitions, qoe
from chalicelib.services.analytics.combine import Count, Frame, Series, all_time, first_view, series, views_since_each
from chalicelib.services.analytics.current import figures_of_videos
from chalicelib.services.analytics.folding import kept_from
from chalicelib.services.analytics.periods import MAX_HOURLY_DAYS, Span, local_days, local_hours, today_in
from chalicelib.services.timezones import resolve

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.engine import Connection

Interval = Literal["day", "hour"]
MAX_RANGE_DAYS = 3660
OVERVIEW_DAYS = 30
TOP_REFERRERS = 10
# A kept zone is marked as asked for again at most this often (a write, so not on every report).
ZONE_TOUCH_INTERVAL = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """What a report is asked for: a range of local days, their zone, the interval, team views or not."""

    start: date | None = None
    end: date | None = None
    tz: str = "UTC"
    interval: Interval = "day"
    include_team: bool = False

    @property
    def teams(self) -> tuple[bool, ...]:
        return (False, True) if self.include_team else (False,)


@dataclass(frozen=True)
class Freshness:
    as_of: datetime
    zone: str
    interval: Interval


@dataclass(frozen=True)
class VideoReport:
    video_id: int
    series: Series
    referrers: list[tuple[str, int]]
    qoe: qoe.QoeSeries
    freshness: Freshness
    definitions: dict[str, str]


@dataclass(frozen=True)
class AllTime:
    figures: Figures
    viewers: Count


@dataclass(frozen=True)
class Overview:
    total_videos: int
    published_videos: int
    all_time: AllTime
    views_last_24h: int
    views_last_7d: int
    views_last_30d: int
    series: Series
    qoe: qoe.QoeSeries
    freshness: Freshness
    definitions: dict[str, str]


@dataclass(frozen=True)
class Top:
    rows: list[totals.TopRow]
    as_of: datetime
    definitions: dict[str, str]


def video_report(video_id: int, window: Window) -> VideoReport:
    """A video's figures over ``window``: totals, events, a gap-free series and its top referrers."""
    return _report(video_id, window)


def library_report(window: Window) -> VideoReport:
    """The library's figures over ``window``, as a video's (by hour: its concurrent viewers hour by hour);
    no referrers (the library's are a breakdown, ``by=referrerHost``)."""
    return _report(raw.LIBRARY, window)


def _report(scope: int, window: Window) -> VideoReport:
    zone_name, zone = resolve(window.tz, "tz")
    with snapshot() as connection:
        if scope != raw.LIBRARY and not catalog.exists(connection, scope):
            raise errors.NotFound("Video not found")
        frame, kept_zones = frame_for(connection, scope, window)
        first = first_view(connection, frame)
        spans = report_spans(window, zone, first)
        materialized = _materialized(kept_zones, zone_name, window.interval)
        covers_all = first is None or (spans[0].start <= first and spans[-1].end > datetime.now(UTC))
        result = series(connection, frame, spans, zone=zone_name if materialized else None, covers_all=covers_all)
        top = []
        if scope != raw.LIBRARY:  # the library's referrers are its referrerHost breakdown
            tail = dict(result.tail_referrers)
            top = referrers.top(connection, scope, spans[0].start, spans[-1].end, frame.teams, TOP_REFERRERS, tail)
        quality = qoe.series(connection, frame, spans)
    _remember_zone(zone_name, kept_zones, window.interval)
    freshness = Freshness(_as_of(frame), zone_name, window.interval)
    return VideoReport(
        scope,
        result,
        top,
        quality,
        freshness,
        definitions.for_range(zone_name, window.interval, result.viewers.exact),
    )


def overview(window: Window) -> Overview:
    """Library totals, views over the last 24 hours / 7 / 30 days, and the zone's last 30 days."""
    zone_name, zone = resolve(window.tz, "tz")
    now = datetime.now(UTC)
    with snapshot() as connection:
        counts = catalog.counts(connection)
        frame, kept_zones = frame_for(connection, raw.LIBRARY, window)
        figures, count = all_time(connection, frame)
        last_24h, last_7d, last_30d = views_since_each(connection, frame, [now - timedelta(days=n) for n in (1, 7, 30)])
        last = today_in(zone, now)
        spans = local_days(zone, last - timedelta(days=OVERVIEW_DAYS - 1), last)
        materialized = _materialized(kept_zones, zone_name, "day")
        days = series(connection, frame, spans, zone=zone_name if materialized else None)
        quality = qoe.series(connection, frame, spans)
    _remember_zone(zone_name, kept_zones, "day")
    return Overview(
        counts.total,
        counts.published,
        AllTime(figures, count),
        last_24h,
        last_7d,
        last_30d,
        days,
        quality,
        Freshness(_as_of(frame), zone_name, "day"),
        definitions.for_range(zone_name, "day", count.exact),
    )


def top_videos(metric: str, limit: int, include_team: bool) -> Top:
    """Videos ranked on all-time views or watch time (stored totals plus the raw tail), each with the
    figures its own answer shows (``current``: distinct viewers included, counted now)."""
    teams = (False, True) if include_team else (False,)
    with snapshot() as connection:
        folded_until = state.instant(connection, state.FOLDED_UNTIL)
        rows = totals.top(connection, metric, limit, teams, folded_until or _EPOCH)
        now = figures_of_videos(connection, (row.video_id for row in rows), teams)
    rows = [replace(row, viewers=now[row.video_id].unique_viewers) for row in rows]
    return Top(rows, folded_until or datetime.now(UTC), definitions.for_top())


def registered_viewers(video_id: int, limit: int, include_team: bool) -> list[viewers.RegisteredViewer]:
    teams = (False, True) if include_team else (False,)
    with snapshot() as connection:
        if not catalog.exists(connection, video_id):
            raise errors.NotFound("Video not found")
        return viewers.registered(connection, video_id, limit, teams)


def aggregate_video(video_id: int) -> AllTime:
    """The video's all-time public figures now (the module's "aggregate"; nothing is stored: every answer
    counts a video's views as they come)."""
    with snapshot() as connection:
        if not catalog.exists(connection, video_id):
            raise errors.NotFound("Video not found")
        frame, _ = frame_for(connection, video_id, Window())
        figures, count = all_time(connection, frame)
    return AllTime(figures, count)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def frame_for(connection: Connection, scope: int, window: Window) -> tuple[Frame, dict[str, state.Zone]]:
    """What a report over ``scope`` reads against, and the zones whose days are kept."""
    instants = state.instants(connection)
    whole = state.BREAKDOWNS_BACKFILL not in instants
    blocks = state.BLOCKS_BACKFILL not in instants
    frame = Frame(scope, window.teams, instants.get(state.FOLDED_UNTIL), kept_from(instants), whole, blocks)
    return frame, state.zones(connection)


def report_spans(window: Window, zone: ZoneInfo, first: datetime | None) -> list[Span]:
    """The report's points: every local day (or hour) of the range, defaults filled in, limits checked."""
    last = window.end or today_in(zone)
    start = window.start or _first_day(zone, first, last, window.interval)
    if last < start:
        raise errors.InvalidInput("endDate must not be before startDate")
    if (last - start).days >= MAX_RANGE_DAYS:
        raise errors.InvalidInput(f"The date range may span at most {MAX_RANGE_DAYS} days")
    if window.interval == "hour":
        if (last - start).days >= MAX_HOURLY_DAYS:
            raise errors.InvalidInput(f"interval=hour covers at most {MAX_HOURLY_DAYS} days")
        return local_hours(zone, start, last)
    return local_days(zone, start, last)


def _first_day(zone: ZoneInfo, first: datetime | None, last: date, interval: Interval) -> date:
    """The local day of the first view (today when none); hourly reports start at most 7 days back."""
    day = min(first.astimezone(zone).date(), last) if first else last
    if interval == "hour":
        day = max(day, last - timedelta(days=MAX_HOURLY_DAYS - 1))
    return day


def _materialized(kept_zones: dict[str, state.Zone], zone: str, interval: Interval) -> bool:
    kept = kept_zones.get(zone)
    return interval == "day" and kept is not None and kept.materialized_at is not None


def _remember_zone(zone: str, kept_zones: dict[str, state.Zone], interval: Interval) -> None:
    """Ask the refresh to keep this zone's days (first report in it), or keep it alive (daily)."""
    if interval != "day":
        return
    kept = kept_zones.get(zone)
    if kept is not None and kept.requested_at > datetime.now(UTC) - ZONE_TOUCH_INTERVAL:
        return
    try:
        with transaction() as connection:
            state.ask_for_zone(connection, zone)
    except Exception:  # noqa: BLE001 - the report is answered from hours meanwhile; asked again next time
        logger.warning("Could not ask for time zone days", extra={"zone": zone}, exc_info=True)


def _as_of(frame: Frame) -> datetime:
    """Figures are current up to the request, except watch time and completion folded at the watermark."""
    return frame.folded_until or datetime.now(UTC)
