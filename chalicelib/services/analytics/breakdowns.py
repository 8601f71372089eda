"""Breakdowns: a metric per value of a dimension (country, device, ...), for a video or the library, over a range.

Generic over the registry (``chalicelib.domain.metrics``): the range's whole UTC days come
from the day roll-ups (one row per value and day), its ragged ends (local midnights of
other zones) and the raw tail after the watermark from raw views, summed per value in SQL;
the metric is then derived from each value's sums. Distinct viewers per value are counted
exactly while the range holds few views (its raw rows kept), else merged from the values'
sketches of the range's blocks of days and single days (``chalicelib.domain.day_blocks``) plus
the raw parts' viewer keys.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.db.engine import snapshot
from chalicelib.domain import errors, metrics
from chalicelib.domain.day_blocks import cover
from chalicelib.domain.sketch import BREAKDOWNS, Sketch, union
from chalicelib.repositories.analytics import breakdown_blocks, breakdowns, catalog, raw
from chalicelib.services.analytics import definitions
from chalicelib.services.analytics.combine import EXACT_VIEWS_LIMIT, first_view
from chalicelib.services.analytics.reports import Window, frame_for, report_spans
from chalicelib.services.timezones import resolve

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from chalicelib.services.analytics.combine import Frame

LIBRARY = raw.LIBRARY  # the scope of the whole library
_DAY = timedelta(days=1)
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Row:
    value: str | None  # None: not known
    figure: float | int | None


@dataclass(frozen=True)
class Breakdown:
    by: str
    metric: str
    rows: list[Row]
    first: date
    last: date
    zone: str
    include_team: bool
    as_of: datetime
    definitions: dict[str, str]


def breakdown(scope: int, by: str, metric: str, window: Window) -> Breakdown:
    """``metric`` per value of dimension ``by`` over ``window``'s local days, largest first."""
    if by not in {item.name for item in metrics.DIMENSIONS}:
        raise errors.InvalidInput(f"by must be one of {', '.join(item.name for item in metrics.DIMENSIONS)}")
    zone_name, zone = resolve(window.tz, "tz")
    with snapshot() as connection:
        if scope != raw.LIBRARY and not catalog.exists(connection, scope):
            raise errors.NotFound("Video not found")
        frame, _ = frame_for(connection, scope, window)
        first = first_view(connection, frame)
        spans = report_spans(window, zone, first)
        start, end = spans[0].start, spans[-1].end
        derive = metrics.metric(metric).derive
        # Distinct viewers need only each value's views (which values, and whether few enough to count).
        sums, parts = _sums(connection, frame, by, (start, end), () if derive else ("views",))
        exact: bool | None = None
        if derive is None:
            covers_all = first is None or (start <= first and end > datetime.now(UTC))
            figures, exact = _viewers(connection, frame, by, sums, parts, (start, end), covers_all=covers_all)
        else:
            figures = {value: derive(value_sums) for value, value_sums in sums.items()}
    rows = [Row(value or None, figure) for value, figure in figures.items()]
    rows.sort(key=lambda row: (row.figure is None, -(row.figure or 0), row.value is None, row.value or ""))
    as_of = frame.folded_until or datetime.now(tz=zone)
    return Breakdown(
        by,
        metric,
        rows,
        spans[0].start.astimezone(zone).date(),
        spans[-1].start.astimezone(zone).date(),
        zone_name,
        window.include_team,
        as_of,
        definitions.for_breakdown(by, metric, zone_name, exact),
    )


@dataclass(frozen=True)
class _Parts:
    """Where a range's figures come from: whole UTC days rolled up, and raw ranges."""

    first_day: date | None
    last_day: date | None
    raw: list[tuple[datetime, datetime]]


def _parts(frame: Frame, start: datetime, end: datetime) -> _Parts:
    days_start = breakdowns.utc_midnight(start - _INSTANT) + _DAY  # the first UTC midnight at or after start
    days_end = max(breakdowns.utc_midnight(end), days_start)  # the last at or before end
    folded = frame.folded_until or days_start
    raw_from = min(max(folded, days_start), days_end)  # the days hold their views up to the watermark
    spans = [(start, min(days_start, end)), (raw_from, end)]
    raw_parts = [(low, high) for low, high in spans if low < high]
    if days_end <= days_start or frame.folded_until is None:
        return _Parts(None, None, raw_parts)
    return _Parts(days_start.date(), (days_end - _DAY).date(), raw_parts)


def _sums(
    connection: Connection, frame: Frame, by: str, span: tuple[datetime, datetime], names: tuple[str, ...]
) -> tuple[dict[str, Counter[str]], _Parts]:
    """Each value's measures over ``span`` (those in ``names``; all when empty)."""
    parts = _parts(frame, *span)
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    if parts.first_day is not None and parts.last_day is not None:
        for value, found in breakdowns.day_sums(
            connection, frame.scope, by, parts.first_day, parts.last_day, frame.teams, names
        ).items():
            sums[value].update(found)
    for low, high in parts.raw:
        for value, found in breakdowns.raw_sums(connection, frame.scope, by, low, high, frame.teams, names).items():
            sums[value].update(found)
    return {value: found for value, found in sums.items() if found.get("views")}, parts


def _viewers(
    connection: Connection,
    frame: Frame,
    by: str,
    sums: dict[str, Counter[str]],
    parts: _Parts,
    span: tuple[datetime, datetime],
    *,
    covers_all: bool,
) -> tuple[dict[str, float | int | None], bool]:
    """Distinct viewers per value: exact over raw views while few, else merged sketches (and the raw keys).

    ``covers_all``: the range holds every view, so each value's all-time sketch and the tail suffice.
    """
    start, end = span
    views = sum(found["views"] for found in sums.values())
    if views <= EXACT_VIEWS_LIMIT and frame.raw_kept(start):
        keys = breakdowns.raw_viewers(connection, frame.scope, by, start, end, frame.teams)
        return {value: len(keys.get(value, ())) for value in sums}, True
    sketches: dict[str, Sketch] = defaultdict(lambda: Sketch(BREAKDOWNS.bits))
    if covers_all and frame.folded_until is not None and frame.breakdown_totals_whole:
        for value, blob in breakdowns.total_sketches(connection, frame.scope, by, frame.teams):
            sketches[value].merge_blob(blob)
        tail = breakdowns.raw_viewers(connection, frame.scope, by, frame.folded_until, end, frame.teams)
        for value, found in tail.items():
            sketches[value].add_keys(found)
        return {value: sketches[value].estimate() for value in sums}, False
    if parts.first_day is not None and parts.last_day is not None and frame.folded_until is not None:
        blocks_until = breakdowns.utc_midnight(frame.folded_until).date() if frame.breakdown_blocks_whole else None
        pieces = cover(parts.first_day, parts.last_day, blocks_until)
        stored: dict[str, list[bytes]] = defaultdict(list)
        for value, blob in breakdown_blocks.range_sketches(connection, frame.scope, by, pieces, frame.teams):
            stored[value].append(blob)
        sketches.update((value, union(blobs, BREAKDOWNS.bits)) for value, blobs in stored.items())
    for low, high in parts.raw:
        for value, found in breakdowns.raw_viewers(connection, frame.scope, by, low, high, frame.teams).items():
            sketches[value].add_keys(found)
    return {value: sketches[value].estimate() for value in sums}, False
