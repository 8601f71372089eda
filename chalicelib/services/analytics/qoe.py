"""Quality of experience over a report's points: the registry's measures summed per point, at constant cost.

Points that are whole UTC days read one roll-up row per day; other points (local days of
other zones, hours) are summed from the hours in SQL, a row per point. Raw views after the watermark (the tail) are
summed per hour in SQL and added to their points, as everywhere in analytics; the range's
figures are the sum of its points' (every measure is additive; percentiles come from the
summed histogram).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from chalicelib.repositories.analytics import breakdowns
from chalicelib.services.analytics.periods import SpanIndex

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from chalicelib.services.analytics.combine import Frame
    from chalicelib.services.analytics.periods import Span

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class QoeSeries:
    points: list[Counter[str]]  # a point's summed measures
    total: Counter[str]


def series(connection: Connection, frame: Frame, spans: Sequence[Span]) -> QoeSeries:
    """The summed measures of each point of ``spans`` and of the whole range."""
    points: list[Counter[str]] = [Counter() for _ in spans]
    start, end = spans[0].start, spans[-1].end
    tail_start = frame.tail_start(start)
    index = SpanIndex(spans)
    if frame.folded_until is not None and start < frame.folded_until:
        if all(_is_utc_day(span) for span in spans):
            folded = breakdowns.day_points(
                connection, frame.scope, spans[0].start.date(), spans[-1].start.date(), frame.teams
            )
            for position, span in enumerate(spans):
                points[position].update(folded.get(span.start.date(), {}))
        else:
            bounds = [(span.start, span.end) for span in spans]
            for position, sums in breakdowns.span_sums(connection, frame.scope, bounds, frame.teams).items():
                points[position].update(sums)
    if tail_start is not None and tail_start < end:
        for hour, sums in breakdowns.raw_hour_sums(connection, frame.scope, tail_start, end, frame.teams):
            _add(points, index.position(max(hour, tail_start)), sums)
    total: Counter[str] = Counter()
    for point in points:
        total.update(point)
    return QoeSeries(points, total)


def _add(points: list[Counter[str]], position: int | None, sums: dict[str, int]) -> None:
    if position is not None:
        points[position].update(sums)


def _is_utc_day(span: Span) -> bool:
    return span.end - span.start == _DAY and span.start == breakdowns.utc_midnight(span.start)
