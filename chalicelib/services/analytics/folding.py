"""The scheduled refresh: raw rows folded into hours, then days per time zone and all-time totals.

Every step is one transaction holding the refresh lock, and leaves the roll-ups
consistent with the watermark it writes (``folded_until``): rows created before it are
in the hours, days and totals; rows after it are read raw by reports (the tail). A report
reads both in one snapshot, so it never counts a row twice or misses one, whatever the
refresh is doing. Re-running a step recomputes the same rows from raw data: the refresh
is idempotent, and a run cut short by its time budget is carried on by the next.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.db.engine import transaction
from chalicelib.domain.audience import PROGRESS_HOURS
from chalicelib.domain.day_blocks import block_start
from chalicelib.domain.figures import Figures
from chalicelib.domain.sketch import Sketch
from chalicelib.repositories import partitions
from chalicelib.repositories.analytics import (
    audience,
    breakdown_blocks,
    breakdowns,
    days,
    hours,
    raw,
    referrers,
    state,
    totals,
)
from chalicelib.services.analytics.combine import EXACT_VIEWS_LIMIT
from chalicelib.services.analytics.periods import Span, floor_hour, local_days
from chalicelib.services.timezones import resolve

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Rows younger than this may belong to a transaction not yet committed: folded next time.
SETTLE = timedelta(seconds=60)
# Heartbeats and completions of views this old still reach the roll-ups; later ones do not.
PROGRESS_WINDOW = timedelta(hours=PROGRESS_HOURS)
# A backlog (the first refresh after the migration or an import, or after an outage) is folded a week
# per step: each step also rewrites the all-time sketches of every value it touched, so fewer, larger
# steps cost less in all (figures in docs/benchmark.md); a week of a busy library fits a step's budget.
# Steps end at a UTC midnight, so every step after the first starts a day afresh instead of merging
# into one folded in part.
STEP = timedelta(days=7)
# The blocks of days of a history folded before they existed are built this many days per step.
BLOCKS_BACKFILL_DAYS = 32
# A zone nobody asked for in this long stops being kept.
IDLE_ZONE_DAYS = 30
TIME_BUDGET_SECONDS = 240.0

_NOW = text("SELECT now()")
HOUR = timedelta(hours=1)
_INSTANT = timedelta(microseconds=1)


@dataclass
class RefreshResult:
    folded_until: str | None = None
    steps: int = 0
    scopes_updated: int = 0
    days_written: int = 0
    zones_built: list[str] = field(default_factory=list)
    partitions_created: list[str] = field(default_factory=list)
    finished: bool = True


@dataclass(frozen=True)
class _Step:
    folded_until: datetime
    caught_up: bool
    scopes: set[int]
    with_new_rows: set[int]
    days: int


def refresh(
    budget_seconds: float = TIME_BUDGET_SECONDS,
    settle: timedelta = SETTLE,
    on_step: Callable[[datetime], None] | None = None,
) -> RefreshResult:
    """Fold new raw rows, then build the days of newly asked time zones; stop at the time budget.

    ``settle``: rows younger than this are left for the next run (tests fold everything with 0).
    ``on_step``: told the watermark after each committed step (an import's progress bar).
    """
    deadline = time.monotonic() + budget_seconds
    result = RefreshResult(partitions_created=ensure_partitions())
    with_progress = True
    updated: set[int] = set()
    with_new_rows: set[int] = set()
    while True:
        with transaction() as connection:
            state.lock(connection)
            step = (
                None
                if state.BACKLOG_DONE in state.instants(connection)
                else _fold_step(connection, with_progress=with_progress, settle=settle)
            )
        if step is None:  # a backlog fold did not finish: only its own last step makes the totals right again
            from chalicelib.services.analytics import backlog

            return backlog.fold(settle=settle, on_step=on_step, budget_seconds=max(0.0, deadline - time.monotonic()))
        with_progress = False
        result.steps += 1
        result.folded_until = step.folded_until.isoformat()
        updated |= step.scopes
        with_new_rows |= step.with_new_rows
        result.scopes_updated = len(updated)
        result.days_written += step.days
        if on_step is not None:
            on_step(step.folded_until)
        if step.caught_up:
            break
        if time.monotonic() > deadline:
            result.finished = False
            return result
    result.finished = after_steps(with_new_rows, deadline, result)
    return result


def after_steps(with_new_rows: set[int], deadline: float, result: RefreshResult) -> bool:
    """What a refresh does once caught up: exact viewers of small scopes, the backfills, the days of newly
    asked zones, idle zones forgotten; False when out of time."""
    _count_small_scopes_exactly(sorted(with_new_rows))
    finished = _backfill_breakdowns(deadline) and _backfill_day_blocks(deadline) and _build_new_zones(result, deadline)
    with transaction() as connection:
        state.forget_idle_zones(connection, IDLE_ZONE_DAYS)
    return finished


def _backfill(name: str, deadline: float, step: Callable[[Connection, datetime, datetime], datetime | None]) -> bool:
    """Carry on the backfill whose progress is the instant ``name``, a ``step`` per transaction under the
    refresh lock (``step(connection, start, watermark)`` does one and says where the next starts, None when
    there is nothing left); False when out of time (the next refresh carries on)."""
    while True:
        with transaction() as connection:
            state.lock(connection)
            instants = state.instants(connection)
            start, watermark = instants.get(name), instants.get(state.FOLDED_UNTIL)
            end = step(connection, start, watermark) if start is not None and watermark is not None else None
            if end is None:
                state.forget_instant(connection, name)
                return True
            state.set_instant(connection, name, end)
        if time.monotonic() > deadline:
            return False


def _backfill_breakdowns(deadline: float) -> bool:
    """Fold the history kept before migration 0013 into the breakdown roll-ups, a week per step."""

    def step(connection: Connection, start: datetime, watermark: datetime) -> datetime | None:
        if start >= watermark:
            return None
        end = min(floor_hour(start) + STEP, watermark)
        breakdowns.fold(connection, floor_hour(start), end, folded_until=watermark)
        return end

    return _backfill(state.BREAKDOWNS_BACKFILL, deadline, step)


def _backfill_day_blocks(deadline: float) -> bool:
    """Build the blocks of the days folded before migration 0019, ``BLOCKS_BACKFILL_DAYS`` aligned days per
    step (a longer block is built again by each step holding its days, from its halves: a merge per value
    each time)."""

    def step(connection: Connection, start: datetime, watermark: datetime) -> datetime | None:
        if start >= breakdowns.utc_midnight(watermark):
            return None
        whole_until = breakdowns.utc_midnight(watermark).date()
        first = start.astimezone(UTC).date()
        end = min(block_start(first, BLOCKS_BACKFILL_DAYS) + timedelta(days=BLOCKS_BACKFILL_DAYS), whole_until)
        breakdown_blocks.build(connection, first, end - timedelta(days=1), whole_until)
        return breakdowns.utc_midnight(start) + (end - first)

    return _backfill(state.BLOCKS_BACKFILL, deadline, step)


def ensure_partitions() -> list[str]:
    """This month's and the next two months' partitions of the raw tables, created ahead of their rows."""
    this_month = partitions.Month.of(datetime.now(UTC))
    wanted = partitions.months(this_month, this_month.next().next())
    with transaction() as connection:
        return partitions.ensure(connection, wanted)


def kept_from(instants: dict[str, datetime]) -> datetime | None:
    """Every raw row from this instant on is still kept (None: all of them)."""
    floors = [instants[name] for name in (state.RAW_KEPT_FROM, state.FOLD_FLOOR) if name in instants]
    return max(floors) if floors else None


def _fold_step(connection: Connection, *, with_progress: bool, settle: timedelta) -> _Step:
    target = connection.execute(_NOW).scalar_one() - settle
    instants = state.instants(connection)
    watermark = instants.get(state.FOLDED_UNTIL) or first_watermark(connection, instants, target)
    start = floor_hour(watermark)
    end = min(breakdowns.utc_midnight(start) + STEP, target)
    if end <= watermark:
        return _Step(watermark, caught_up=True, scopes=set(), with_new_rows=set(), days=0)
    changed_from = start - PROGRESS_WINDOW if with_progress else start
    before = hours.figures_by_scope(connection, changed_from, end)
    if with_progress:
        hours.refresh_progress(connection, changed_from, start)
    with_new_rows = hours.fold_new(connection, start, end)
    referrers.fold_new(connection, start, end)
    breakdowns.refresh_progress(connection, changed_from, start)
    breakdowns.fold(connection, start, end, day_so_far_folded=True)
    audience.fold(connection, changed_from, end)
    after = hours.figures_by_scope(connection, changed_from, end)
    written = 0
    for zone in state.zones(connection).values():
        if zone.materialized_at is not None:
            written += refresh_days(connection, zone.zone, changed_from, start, end, kept_from(instants))
    deltas = {key: after.get(key, Figures()) - before.get(key, Figures()) for key in before.keys() | after.keys()}
    changed = {key: delta for key, delta in deltas.items() if delta != Figures()}
    scopes = _update_totals(connection, changed, with_new_rows, (start, end), instants)
    state.set_instant(connection, state.FOLDED_UNTIL, end)
    return _Step(end, caught_up=end >= target, scopes=scopes, with_new_rows=with_new_rows, days=written)


def first_watermark(connection: Connection, instants: dict[str, datetime], target: datetime) -> datetime:
    """Where the very first fold starts: the oldest raw row kept (or now, when there is none)."""
    oldest = raw.oldest(connection)
    candidates = [moment for moment in (instants.get(state.FOLD_FLOOR), oldest) if moment is not None]
    return floor_hour(min(candidates)) if candidates else target


def refresh_days(
    connection: Connection, zone: str, progressed_from: datetime, start: datetime, end: datetime, kept: datetime | None
) -> int:
    """Rebuild the zone's days holding new rows; bring days with only late progress up to date."""
    new, progressed = zone_days(zone, progressed_from, start, end)
    for span in new:
        materialize_day(connection, zone, span, end, kept)
    for span in progressed:
        days.refresh_progress(connection, zone, day_of(span), span.start, span.end)
    return len(new)


def zone_days(zone: str, progressed_from: datetime, start: datetime, end: datetime) -> tuple[list[Span], list[Span]]:
    """The zone's local days over [progressed_from, end): those holding hours from ``start`` on, to rebuild,
    and those before it, with only late progress."""
    _, tz = resolve(zone)
    spans = local_days(tz, progressed_from.astimezone(tz).date(), (end - _INSTANT).astimezone(tz).date())
    return [span for span in spans if span.end > start], [span for span in spans if span.end <= start]


def materialize_day(
    connection: Connection, zone: str, span: Span, folded_until: datetime, kept: datetime | None
) -> None:
    """Write one calendar day of ``zone`` for every scope: summed figures, merged sketch, exact viewers.

    Distinct viewers are counted exactly from raw rows while the day's rows are all kept (and
    then, on the team row, those of team and other views together, which ``includeTeam`` reports
    give the day), else estimated from the merged hourly sketches (legacy hours without one add
    their count).
    """
    figures = hours.figures_by_scope(connection, span.start, span.end)
    exact: dict[tuple[int, bool | None], int] = {}
    sketches: dict[tuple[int, bool], Sketch] = defaultdict(Sketch)
    legacy: dict[tuple[int, bool], tuple[int, int]] = {}
    if kept is None or span.start >= kept:  # every raw row of the day is kept: its hours hold no legacy count
        exact = raw.exact_viewers_by_scope(connection, span.start, min(span.end, folded_until))
        for key, blob in hours.raw_sketches(connection, span.start, min(span.end, folded_until)).items():
            sketches[key].merge_blob(blob)
    else:
        for scope, team, blob in days.hour_sketches(connection, span.start, span.end):
            sketches[scope, team].merge_blob(blob)
        legacy = days.legacy_viewers(connection, span.start, span.end)
    rows = [
        _day_row(key, value, sketches.get(key), legacy.get(key, (0, 0)), exact, day_of(span))
        for key, value in figures.items()
    ]
    days.replace_day(connection, zone, day_of(span), rows)


def _day_row(
    key: tuple[int, bool],
    figures: Figures,
    sketch: Sketch | None,
    legacy: tuple[int, int],
    exact: dict[tuple[int, bool | None], int],
    day: date,
) -> days.DayRow:
    scope, team = key
    blob = sketch.encode() if sketch is not None else None
    counted = exact.get(key)
    if counted is not None:
        together = exact.get((scope, None)) if team else None
        return days.DayRow(scope, day, team, figures, counted, True, blob, viewers_with_team=together)
    if figures.views == 0:
        return days.DayRow(scope, day, team, figures, 0, True, blob)
    legacy_viewers, legacy_rows = legacy
    if sketch is None:
        # One legacy row is one UTC day's exact count (the library's was already a sum of videos').
        return days.DayRow(scope, day, team, figures, legacy_viewers, legacy_rows == 1 and scope != raw.LIBRARY, None)
    return days.DayRow(scope, day, team, figures, sketch.estimate() + legacy_viewers, False, blob)


def day_of(span: Span) -> date:
    label = span.label
    return label.date() if isinstance(label, datetime) else label


def _update_totals(
    connection: Connection,
    deltas: dict[tuple[int, bool], Figures],
    with_new_rows: set[int],
    folded: tuple[datetime, datetime],
    instants: dict[str, datetime],
) -> set[int]:
    """Add each scope's change to its all-time figures; merge the new hours' sketches into its sketch.

    The change is the scope's hours after the step minus before it, so the cost follows
    the hours refolded, not the scope's history. Distinct viewers are the sketch's
    estimate here; :func:`_count_small_scopes_exactly` replaces them by exact counts where cheap.
    """
    scopes = sorted({scope for scope, _ in deltas} | with_new_rows)
    if not scopes:
        return set()
    current = {(row.scope_id, row.team): row for row in totals.read_many(connection, scopes)}
    sketches = {key: Sketch.decode(row.sketch) for key, row in current.items() if key[0] in with_new_rows}
    for scope, team, new_hour in totals.new_hour_sketches(connection, sorted(with_new_rows), *folded):
        sketches.setdefault((scope, team), Sketch()).merge_blob(new_hour)
    figures = {key: row.figures for key, row in current.items()}
    for key, delta in deltas.items():
        figures[key] = figures.get(key, Figures()) + delta
    floor = instants.get(state.FOLD_FLOOR)
    legacy = totals.legacy_viewers(connection, sorted(with_new_rows), floor) if floor else {}
    rows = [
        total_row(key, total, current.get(key), sketches.get(key), legacy.get(key, 0)) for key, total in figures.items()
    ]
    totals.write(connection, rows)
    return set(scopes)


def total_row(
    key: tuple[int, bool],
    figures: Figures,
    row: totals.TotalRow | None,
    sketch: Sketch | None,
    legacy: int,
) -> totals.TotalRow:
    scope, team = key
    if sketch is None:  # only late progress: the viewers did not change
        viewers, is_exact, blob = (row.viewers, row.viewers_exact, row.sketch) if row else (0, True, None)
        return totals.TotalRow(scope, team, figures, viewers, is_exact, blob, None)
    return totals.TotalRow(scope, team, figures, sketch.estimate() + legacy, False, sketch.encode(), None)


def _count_small_scopes_exactly(scopes: list[int]) -> None:
    """Once per refresh, not per step: exact all-time viewers of the scopes that got new views, where cheap."""
    if not scopes:
        return
    with transaction() as connection:
        state.lock(connection)
        _recount_small_scopes(connection, scopes, state.instants(connection))


def _recount_small_scopes(connection: Connection, scopes: list[int], instants: dict[str, datetime]) -> None:
    current = {(row.scope_id, row.team): row for row in totals.read_many(connection, scopes)}
    figures = {key: row.figures for key, row in current.items()}
    exact = _exact_totals(connection, figures, set(scopes), instants[state.FOLDED_UNTIL], instants)
    rows = [replace(current[key], viewers=count, viewers_exact=True) for key, count in exact.items()]
    totals.write(connection, rows)


def refold(connection: Connection, instants_of_rows: Iterable[datetime]) -> int:
    """Recompute the folded hours holding these instants from the raw rows kept, and the days and totals
    they feed, after raw rows were removed from them (a person's erasure); return the hours refolded.

    The refresh's own steps, run again over those hours only: hours (figures, exact viewers,
    sketches), peaks and referrers are recounted from what is left, every kept zone's days over
    them rebuilt, and each scope's all-time figures corrected by the change (its distinct viewers
    recounted exactly where the refresh would; a larger scope keeps its estimate, since a sketch
    cannot forget, within its error). Rows after the watermark are not folded yet: nothing to do.
    The caller holds the refresh lock (``state.lock``) in ``connection``'s transaction.
    """
    instants = state.instants(connection)
    watermark = instants.get(state.FOLDED_UNTIL)
    if watermark is None:
        return 0
    kept = kept_from(instants)
    starts = {floor_hour(moment) for moment in instants_of_rows if moment < watermark}
    spans = [(start, min(start + HOUR, watermark)) for start in sorted(starts) if kept is None or start >= kept]
    deltas: dict[tuple[int, bool], Figures] = defaultdict(Figures)
    touched: set[int] = set()
    for start, end in spans:
        before = hours.figures_by_scope(connection, start, end)
        touched |= hours.fold_new(connection, start, end)
        referrers.fold_new(connection, start, end)
        breakdowns.fold(connection, start, end, folded_until=watermark)
        after = hours.figures_by_scope(connection, start, end)
        for key in before.keys() | after.keys():
            deltas[key] += after.get(key, Figures()) - before.get(key, Figures())
    _rematerialize_days(connection, spans, watermark, kept)
    changed = {key: delta for key, delta in deltas.items() if delta != Figures()}
    scopes = _update_totals(connection, changed, set(), (watermark, watermark), instants)
    _recount_small_scopes(connection, sorted(scopes | touched), instants)
    return len(spans)


def _rematerialize_days(
    connection: Connection, spans: list[tuple[datetime, datetime]], watermark: datetime, kept: datetime | None
) -> None:
    """Rebuild, once each, every kept zone's local days that overlap ``spans``."""
    for zone in state.zones(connection).values():
        if zone.materialized_at is None:
            continue
        _, tz = resolve(zone.zone)
        local = {
            day for start, end in spans for day in (start.astimezone(tz).date(), (end - _INSTANT).astimezone(tz).date())
        }
        for day in sorted(local):
            for span in local_days(tz, day, day):
                materialize_day(connection, zone.zone, span, watermark, kept)


def _exact_totals(
    connection: Connection,
    figures: dict[tuple[int, bool], Figures],
    with_new_rows: set[int],
    end: datetime,
    instants: dict[str, datetime],
) -> dict[tuple[int, bool], int]:
    """Exact all-time viewers of the scopes with new views, few views in all (``EXACT_VIEWS_LIMIT``) and
    all their raw rows; the others keep the sketch's estimate."""
    views: dict[int, int] = defaultdict(int)
    for (scope, _), total in figures.items():
        views[scope] += total.views
    small = [scope for scope in with_new_rows if views[scope] <= EXACT_VIEWS_LIMIT]
    kept = kept_from(instants)
    if kept is not None and small:
        first = totals.first_hours(connection, small)
        small = [scope for scope in small if first.get(scope, end) >= kept]
    exact: dict[tuple[int, bool], int] = {}
    videos = [scope for scope in small if scope != raw.LIBRARY]
    if videos:
        exact.update(raw.exact_viewers_of_videos(connection, videos, end))
    if raw.LIBRARY in small:
        for team in (False, True):
            exact[raw.LIBRARY, team] = raw.exact_viewers(connection, raw.LIBRARY, None, end, (team,))
    return {key: exact.get(key, 0) for key in figures if key[0] in small}


def _build_new_zones(result: RefreshResult, deadline: float) -> bool:
    """Materialise every day of each zone asked for since the last run; False when out of time."""
    with transaction() as connection:
        pending = [zone.zone for zone in state.zones(connection).values() if zone.materialized_at is None]
    for zone in pending:
        if not _build_zone(zone, result, deadline):
            return False
        result.zones_built.append(zone)
    return True


def _build_zone(zone: str, result: RefreshResult, deadline: float) -> bool:
    """All the zone's days from the first folded hour, newest last; the last ones with the flag set.

    Days older than the progress window never change again, so they are written a
    transaction each; the recent ones and the flag are written in one transaction under
    the lock, against the watermark of that moment, so no fold can slip in between.
    """
    _, tz = resolve(zone)
    with transaction() as connection:
        first = hours.first_hour(connection, raw.LIBRARY, (False, True))
        instants = state.instants(connection)
    watermark = instants.get(state.FOLDED_UNTIL)
    if first is None or watermark is None:
        with transaction() as connection:
            state.lock(connection)
            state.mark_materialized(connection, zone, connection.execute(_NOW).scalar_one())
        return True
    settled = floor_hour(watermark) - PROGRESS_WINDOW - timedelta(days=1)
    for span in local_days(tz, first.astimezone(tz).date(), settled.astimezone(tz).date()):
        if time.monotonic() > deadline:
            return False
        with transaction() as connection:
            state.lock(connection)
            materialize_day(connection, zone, span, watermark, kept_from(instants))
        result.days_written += 1
    with transaction() as connection:
        state.lock(connection)
        instants = state.instants(connection)
        watermark = instants[state.FOLDED_UNTIL]
        last = (watermark - timedelta(microseconds=1)).astimezone(tz).date()
        for span in local_days(tz, (settled + timedelta(hours=1)).astimezone(tz).date(), last):
            materialize_day(connection, zone, span, watermark, kept_from(instants))
            result.days_written += 1
        state.mark_materialized(connection, zone, connection.execute(_NOW).scalar_one())
    return True
