"""The one place roll-ups and raw rows meet: a report's points and totals from both.

Rows created before the fold watermark are read from roll-ups (a zone's materialised
days, or hours); rows after it, the tail (about one refresh interval of traffic), raw.
Additive figures simply add up. Distinct viewers do not, so each point, and the range as
a whole, takes the first of these that applies:

1. a single source (one roll-up row, or tail views only): its exact count;
2. few views whose raw rows are all kept: counted exactly from the raw rows;
3. otherwise the union of the HyperLogLog sketches and the tail's viewers, estimated.

The answer says which (``uniqueViewersExact``), so no figure claims more than it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.events import EVENT_TYPES
from chalicelib.domain.figures import Figures
from chalicelib.domain.sketch import Sketch
from chalicelib.repositories.analytics import days, hours, live, raw, totals
from chalicelib.services.analytics.periods import HOUR, Span, SpanIndex, floor_hour

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Distinct viewers are counted exactly over raw rows up to this many views, by reports and by
# the refresh for the stored totals; beyond it the count is a sketch's. Recounting a busy video's
# day exactly grows with its views and would take most of a report's budget (docs/benchmark.md).
EXACT_VIEWS_LIMIT = 2_000


@dataclass(frozen=True)
class Frame:
    """What a report reads against: its scope (a video, 0 for the library), team flags and the fold state."""

    scope: int
    teams: tuple[bool, ...]
    folded_until: datetime | None
    kept_from: datetime | None
    # False while the breakdown roll-ups are refolded (``state.BREAKDOWNS_BACKFILL``): their all-time
    # sketches hold only the viewers refolded so far, and their days are whole.
    breakdown_totals_whole: bool = True
    # False while the blocks of days folded before migration 0019 are built (``state.BLOCKS_BACKFILL``).
    breakdown_blocks_whole: bool = True
    # The raw tail, read once per report: a report's totals and its points read the same rows,
    # and in one snapshot they cannot change (about a refresh interval of traffic each).
    tails: dict[tuple[str, datetime | None], list[Any]] = field(default_factory=dict, compare=False, repr=False)

    def tail_views(self, connection: Connection, start: datetime | None, end: datetime | None) -> list[raw.TailView]:
        """Views of [start, end) after the watermark (``start`` from :meth:`tail_start`)."""
        views = self._tail("views", start, lambda: raw.tail_views(connection, self.scope, start, None, self.teams))
        return views if end is None else [view for view in views if view.created_at < end]

    def tail_events(self, connection: Connection, start: datetime | None, end: datetime | None) -> list[raw.TailEvent]:
        events = self._tail("events", start, lambda: raw.tail_events(connection, self.scope, start, None, self.teams))
        return events if end is None else [event for event in events if event.created_at < end]

    def _tail(self, kind: str, start: datetime | None, read: Callable[[], list[Any]]) -> list[Any]:
        if (kind, start) not in self.tails:
            self.tails[kind, start] = read()
        return self.tails[kind, start]

    def tail_start(self, start: datetime | None) -> datetime | None:
        """Raw rows from here on are not in the roll-ups."""
        if self.folded_until is None:
            return start
        return self.folded_until if start is None else max(start, self.folded_until)

    def raw_kept(self, start: datetime | None) -> bool:
        return self.kept_from is None or (start is not None and start >= self.kept_from)


@dataclass(frozen=True)
class Count:
    viewers: int
    exact: bool


@dataclass(frozen=True)
class Point:
    span: Span
    figures: Figures
    viewers: Count


@dataclass(frozen=True)
class Series:
    points: list[Point]
    figures: Figures
    viewers: Count
    tail_referrers: Counter[str]


class _DaySketches:
    """The sketches of a report's days, read only when an estimate has to merge them.

    A day's figures come from an index-only scan; its 16 KB sketch is read only to merge
    it, and most reports merge none (each day's own count is stored, the all-time one too)
    or one (today's, when it holds the tail). Each estimate reads the sketches it lacks
    in one statement.
    """

    def __init__(self, connection: Connection, frame: Frame, zone: str) -> None:
        self._connection, self._frame, self._zone = connection, frame, zone
        self._found: dict[tuple[date, bool], bytes | None] = {}

    def get_many(self, keys: Iterable[tuple[date, bool]]) -> dict[tuple[date, bool], bytes | None]:
        wanted = set(keys)
        missing = wanted - self._found.keys()
        if missing:
            wanted_days, teams = sorted({day for day, _ in missing}), sorted({team for _, team in missing})
            found = days.sketches(self._connection, self._frame.scope, self._zone, wanted_days, teams)
            self._found.update({key: found.get(key) for key in missing})
        return {key: self._found[key] for key in wanted}


@dataclass
class _Part:
    """What is known of one point (or a whole range) while it is being read."""

    figures: Figures = field(default_factory=Figures)
    counts: list[Count] = field(default_factory=list)  # one per roll-up row with views
    blobs: list[bytes] = field(default_factory=list)
    legacy: int = 0  # viewers of roll-up rows without a sketch
    keys: set[str] = field(default_factory=set)  # viewers of tail views
    # Day rows whose sketch is read only if an estimate needs it: (sketches, (day, team), viewers).
    deferred: list[tuple[_DaySketches, tuple[date, bool], int]] = field(default_factory=list)

    def add_rolled(self, figures: Figures, viewers: int, exact: bool, blob: bytes | None) -> None:
        if self._add_figures(figures, viewers, exact):
            if blob is None:
                self.legacy += viewers
            else:
                self.blobs.append(blob)

    def add_day(self, row: days.DayRow, sketches: _DaySketches) -> None:
        if self._add_figures(row.figures, row.viewers, row.viewers_exact):
            self.deferred.append((sketches, (row.day, row.team), row.viewers))

    def add_day_together(self, rows: Sequence[days.DayRow], together: int, sketches: _DaySketches) -> None:
        """A day's team and other rows, whose viewers were counted together when the day was folded: one
        exact count (their sketches are read only if a tail or other days make an estimate merge them)."""
        if self._add_figures(sum((row.figures for row in rows), Figures()), together, True):
            self.deferred.extend((sketches, (row.day, row.team), row.viewers) for row in rows if row.figures.views)

    def _add_figures(self, figures: Figures, viewers: int, exact: bool) -> bool:
        """Add a roll-up row's figures; True when it has views (and so viewers to count)."""
        self.figures = self.figures + figures
        if figures.views == 0:
            return False
        self.counts.append(Count(viewers, exact))
        return True

    def add_tail(self, views: Sequence[raw.TailView]) -> None:
        """Add raw views after the watermark (summed first: one Figures per part, not per view)."""
        if not views:
            return
        watch = sum(view.watch_time_seconds for view in views)
        completed = sum(1 for view in views if view.completed)
        self.figures = self.figures + Figures(len(views), watch, completed)
        self.keys.update(view.viewer for view in views)

    def single(self) -> Count | None:
        """The exact count when one source holds every view of the part."""
        if not self.counts and not self.keys:
            return Count(0, True)
        if not self.keys and len(self.counts) == 1 and self.counts[0].exact:
            return self.counts[0]
        if self.keys and not self.counts:
            return Count(len(self.keys), True)
        return None

    def estimate(self) -> Count:
        if self.deferred:
            found = self.deferred[0][0].get_many(key for _, key, _ in self.deferred)
            for _, key, viewers in self.deferred:
                blob = found[key]
                if blob is None:
                    self.legacy += viewers
                else:
                    self.blobs.append(blob)
            self.deferred = []
        sketch = Sketch.of_keys(self.keys)
        for blob in self.blobs:
            sketch.merge_blob(blob)
        return Count(sketch.estimate() + self.legacy, False)


def series(
    connection: Connection, frame: Frame, spans: Sequence[Span], *, zone: str | None, covers_all: bool = False
) -> Series:
    """Points over ``spans`` (from the zone's days when ``zone`` is materialised, else from hours) and totals.

    ``covers_all``: the spans hold every view of the scope, so the range's distinct viewers
    are the all-time ones (one stored sketch instead of one per point).
    """
    parts = [_Part() for _ in spans]
    if zone is not None:
        _read_days(connection, frame, zone, spans, parts)
    else:
        _read_hours(connection, frame, spans, parts)
    start, end = spans[0].start, spans[-1].end
    tail_referrers = _read_tail(connection, frame, spans, parts, start, end)
    _read_tail_peaks(connection, frame, spans, parts)
    counts = _point_counts(connection, frame, spans, parts)
    points = [Point(span, part.figures, count) for span, part, count in zip(spans, parts, counts, strict=True)]
    whole = _Part()
    for part in parts:
        whole.figures = whole.figures + part.figures
        whole.counts.extend(part.counts)
        whole.blobs.extend(part.blobs)
        whole.deferred.extend(part.deferred)
        whole.legacy += part.legacy
        whole.keys |= part.keys
    with_views = [point for point in points if point.figures.views]
    if len(with_views) == 1:  # one point with views holds them all: its count is the range's
        viewers = with_views[0].viewers
    elif covers_all:
        _, viewers = all_time(connection, frame)
    else:
        viewers = _range_count(connection, frame, whole, start, end)
    return Series(points, whole.figures, viewers, tail_referrers)


def all_time(connection: Connection, frame: Frame) -> tuple[Figures, Count]:
    """A scope's all-time figures: the refresh's totals plus the tail."""
    whole = _Part()
    for row in totals.read(connection, frame.scope, frame.teams):
        whole.add_rolled(row.figures, row.viewers, row.viewers_exact, row.sketch)
    events = frame.tail_events(connection, frame.tail_start(None), None)
    whole.add_tail(frame.tail_views(connection, frame.tail_start(None), None))
    whole.figures = whole.figures + _event_figures(events)
    return whole.figures, whole.single() or _range_count(connection, frame, whole, None, None)


def first_view(connection: Connection, frame: Frame) -> datetime | None:
    """When the scope's first view started (to the hour once folded), None when it has none."""
    return hours.first_hour(connection, frame.scope, frame.teams) or raw.first_view(
        connection, frame.scope, frame.teams
    )


def views_between(connection: Connection, frame: Frame, start: datetime, end: datetime) -> int:
    """Views started in [start, end) (hour-aligned bounds): folded hours, plus raw rows after the watermark."""
    if frame.folded_until is None:
        return raw.count_views(connection, frame.scope, start, end, frame.teams)
    folded = hours.figures_between(connection, frame.scope, start, end, frame.teams)
    tail_start = max(start, frame.folded_until)
    tail = raw.count_views(connection, frame.scope, tail_start, end, frame.teams) if tail_start < end else 0
    return folded.views + tail


def views_since_each(connection: Connection, frame: Frame, instants: Sequence[datetime]) -> list[int]:
    """Views started since each instant, in two statements whatever their number: the whole folded
    hours after it, raw rows for its partial first hour, and the tail already read for the report.
    """
    folded: list[tuple[datetime, datetime]] = []
    partial: list[tuple[datetime, datetime]] = []
    for since in instants:
        first_full_hour = floor_hour(since)
        if first_full_hour < since:
            first_full_hour += HOUR
        watermark = frame.folded_until or since
        folded.append((first_full_hour, max(first_full_hour, watermark)))
        partial.append((since, max(since, min(first_full_hour, watermark))))
    tail = frame.tail_views(connection, frame.tail_start(None), None)
    hour_views = hours.views_per_span(connection, frame.scope, folded, frame.teams) if frame.folded_until else {}
    raw_views = raw.count_views_per_span(connection, frame.scope, partial, frame.teams)
    return [
        hour_views.get(position, 0)
        + raw_views.get(position, 0)
        + sum(1 for view in tail if view.created_at >= max(since, frame.folded_until or since))
        for position, since in enumerate(instants)
    ]


def _read_days(connection: Connection, frame: Frame, zone: str, spans: Sequence[Span], parts: list[_Part]) -> None:
    by_day = {span.label: part for span, part in zip(spans, parts, strict=True)}
    sketches = _DaySketches(connection, frame, zone)
    rows_of: dict[date, list[days.DayRow]] = {}
    for row in days.read(connection, frame.scope, zone, spans[0].label, spans[-1].label, frame.teams):
        if row.day in by_day:
            rows_of.setdefault(row.day, []).append(row)
    for day, rows in rows_of.items():
        part = by_day[day]
        together = _counted_together(rows) if len(frame.teams) > 1 else None
        if together is None:
            for row in rows:
                part.add_day(row, sketches)
        else:
            part.add_day_together(rows, together, sketches)


def _counted_together(rows: Sequence[days.DayRow]) -> int | None:
    """The day's exact viewers of team and other views together, when the fold counted them."""
    if len(rows) < 2:
        return None
    return next((row.viewers_with_team for row in rows if row.team), None)


def _read_hours(connection: Connection, frame: Frame, spans: Sequence[Span], parts: list[_Part]) -> None:
    index = SpanIndex(spans)
    for hour, row in hours.in_range(connection, frame.scope, spans[0].start, spans[-1].end, frame.teams):
        position = index.position(hour)
        if position is not None:
            # Legacy library hours (migration 0004) hold a sum of videos' daily counts, not a distinct count.
            exact = row.sketch is not None or frame.scope != raw.LIBRARY
            parts[position].add_rolled(row.figures, row.viewers, exact, row.sketch)


def _read_tail(
    connection: Connection, frame: Frame, spans: Sequence[Span], parts: list[_Part], start: datetime, end: datetime
) -> Counter[str]:
    """Add the raw rows after the watermark to their points; return the tail's referrer counts."""
    tail_start = frame.tail_start(start)
    referrers: Counter[str] = Counter()
    if tail_start is None or tail_start >= end:
        return referrers
    index = SpanIndex(spans)
    views_at: dict[int, list[raw.TailView]] = {}
    for view in frame.tail_views(connection, tail_start, end):
        position = index.position(view.created_at)
        if position is not None:
            views_at.setdefault(position, []).append(view)
            if view.referer:
                referrers[view.referer] += 1
    for position, views in views_at.items():
        parts[position].add_tail(views)
    by_position: dict[int, list[raw.TailEvent]] = {}
    for event in frame.tail_events(connection, tail_start, end):
        position = index.position(event.created_at)
        if position is not None:
            by_position.setdefault(position, []).append(event)
    for position, events in by_position.items():
        parts[position].figures = parts[position].figures + _event_figures(events)
    return referrers


def _read_tail_peaks(connection: Connection, frame: Frame, spans: Sequence[Span], parts: list[_Part]) -> None:
    """Concurrent viewers minute by minute since the watermark, raising the peaks of their points."""
    since = frame.tail_start(spans[0].start)
    if since is None or since >= spans[-1].end:
        return
    index = SpanIndex(spans)
    for minute, viewers in live.minutes(connection, frame.scope, since, frame.teams):
        position = index.position(minute)
        if position is not None:
            parts[position].figures = parts[position].figures + Figures(peak_viewers=viewers)


def _event_figures(events: Iterable[raw.TailEvent]) -> Figures:
    counted = Counter(event.event_type for event in events)
    return Figures(events=tuple(counted.get(kind, 0) for kind in EVENT_TYPES))


def _point_counts(connection: Connection, frame: Frame, spans: Sequence[Span], parts: list[_Part]) -> list[Count]:
    """Each point's viewers: single source, else exact recount while the views stay few, else estimated."""
    counts: list[Count | None] = [part.single() for part in parts]
    budget = EXACT_VIEWS_LIMIT
    recount: list[int] = []
    for position, (span, part) in enumerate(zip(spans, parts, strict=True)):
        if counts[position] is None and part.figures.views <= budget and frame.raw_kept(span.start):
            recount.append(position)
            budget -= part.figures.views
    if recount:
        found = raw.exact_viewers_per_span(
            connection, frame.scope, [(spans[p].start, spans[p].end) for p in recount], frame.teams
        )
        for order, position in enumerate(recount):
            counts[position] = Count(found.get(order, 0), True)
    _read_sketches_at_once([part for count, part in zip(counts, parts, strict=True) if count is None])
    return [count or part.estimate() for count, part in zip(counts, parts, strict=True)]


def _read_sketches_at_once(estimated: list[_Part]) -> None:
    """The day sketches every estimated point merges, in one statement rather than one per point (a
    report with team views merges two rows a day: 118 statements for 120 days)."""
    deferred = [entry for part in estimated for entry in part.deferred]
    if deferred:
        deferred[0][0].get_many(key for _, key, _ in deferred)


def _range_count(
    connection: Connection, frame: Frame, whole: _Part, start: datetime | None, end: datetime | None
) -> Count:
    if whole.figures.views <= EXACT_VIEWS_LIMIT and frame.raw_kept(start):
        return Count(raw.exact_viewers(connection, frame.scope, start, end, frame.teams), True)
    return whole.single() or whole.estimate()
