"""Report periods: a zone's calendar days (or hours) as spans of whole UTC hours.

Figures are folded per UTC hour, so a local day is the hours between its local midnights.
For every zone whose offset from UTC is a whole number of hours (nearly all of them, DST
days of 23 or 25 hours included) that is exact. For the few :30 and :45 zones (India,
Nepal, Newfoundland, ...) each midnight is taken at the start of its UTC hour, so their
days begin up to 45 minutes early.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR = timedelta(hours=1)
MAX_HOURLY_DAYS = 7


@dataclass(frozen=True)
class Span:
    """One point of a report: a label (a local date or a local hour) and its UTC hours [start, end)."""

    label: date | datetime
    start: datetime
    end: datetime


def floor_hour(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC hour holding ``day``'s local midnight."""
    return floor_hour(datetime.combine(day, time(0), tzinfo=zone))


def local_days(zone: ZoneInfo, first: date, last: date) -> list[Span]:
    """Every calendar day of ``zone`` from ``first`` to ``last`` (inclusive)."""
    spans = []
    day = first
    start = midnight(day, zone)
    while day <= last:
        following = day + timedelta(days=1)
        end = midnight(following, zone)
        spans.append(Span(day, start, end))
        day, start = following, end
    return spans


def local_hours(zone: ZoneInfo, first: date, last: date) -> list[Span]:
    """Every hour from ``first``'s local midnight to the end of ``last``, labelled in local time."""
    start, end = midnight(first, zone), midnight(last + timedelta(days=1), zone)
    spans = []
    while start < end:
        spans.append(Span(start.astimezone(zone), start, start + HOUR))
        start += HOUR
    return spans


def today_in(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()


class SpanIndex:
    """Which span an instant falls in (for raw rows newer than the last fold)."""

    def __init__(self, spans: Sequence[Span]) -> None:
        self._spans = list(spans)
        self._starts = [span.start for span in self._spans]

    def position(self, instant: datetime) -> int | None:
        """The index of the span holding ``instant``, None when it is in none."""
        position = bisect.bisect_right(self._starts, instant) - 1
        if position < 0 or instant >= self._spans[position].end:
            return None
        return position
