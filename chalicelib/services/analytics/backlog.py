"""Folding a long backlog (an import's history) on several connections at once.

The scheduled refresh folds a week per step, one statement at a time: one core of the database
works, the others wait. A backlog's weeks are independent where it costs: each week's hours,
peaks, referrers, retention and breakdown days are rows of that week only (weeks end at UTC
midnights), so workers fold different weeks side by side, each week one transaction. What spans
weeks is built once they are all done: every kept zone's days (a local day straddles two weeks),
the blocks of days, and, in one last transaction with the watermark, the all-time figures.

While it runs the watermark stays where it was, so reports read the backlog raw, as before it
started: the rows written beyond it are not read until the last transaction moves it. The
refresh lock is held for the whole run (at session level, on the coordinator's connection), so
no refresh folds the same hours meanwhile. Each value's all-time breakdown sketch is merged week
by week, under a lock of its own: merging viewers twice changes nothing, so a report merging them
again from the raw tail stays right.

All-time figures are set to the sum of each scope's hours, not moved by a difference: a run cut
short leaves weeks beyond the watermark whose hours are in no total, and the next run, told by
the ``backlog_folded_until`` state, carries on from the first week not folded and ends the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.db.engine import get_engine, transaction
from chalicelib.domain.figures import Figures
from chalicelib.domain.sketch import Sketch
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
from chalicelib.services.analytics import folding
from chalicelib.services.analytics.periods import Span, floor_hour

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Weeks folded at once: one per core of a small database server (figures in docs/benchmark.md).
WORKERS = 2
UTC_ZONE = "UTC"
_INSTANT = timedelta(microseconds=1)
_NOW = text("SELECT now()")
_HOLD = text("SELECT pg_advisory_lock(hashtext('media-api:analytics-refresh'))")
_RELEASE = text("SELECT pg_advisory_unlock(hashtext('media-api:analytics-refresh'))")
_MERGE_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('media-api:breakdown-totals'))")


def weeks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into the refresh's steps: the first from ``start``'s hour, each ending at a UTC midnight."""
    cuts, at = [], floor_hour(start)
    while at < end:
        following = min(breakdowns.utc_midnight(at) + folding.STEP, end)
        cuts.append((at, following))
        at = following
    return cuts


def fold(
    workers: int = WORKERS,
    settle: timedelta = folding.SETTLE,
    on_step: Callable[[datetime], None] | None = None,
    budget_seconds: float = folding.TIME_BUDGET_SECONDS,
) -> folding.RefreshResult:
    """Fold everything up to now (less ``settle``) with ``workers`` weeks at once, then what the refresh does
    after its steps. Out of time (``budget_seconds``) between weeks, it stops; the next refresh carries on."""
    deadline = time.monotonic() + budget_seconds
    result = folding.RefreshResult(partitions_created=folding.ensure_partitions())
    with_new_rows: set[int] = set()
    with _refresh_lock() as coordinator:
        plan = _plan(coordinator, settle)
        result.folded_until = plan.watermark.isoformat()
        if plan.weeks or plan.resumed:
            coordinator.commit()
            if not _fold_weeks(plan, workers, deadline, on_step, result):
                result.finished = False
                return result
            result.days_written += _write_days_and_blocks(plan, workers)
            with_new_rows = _finish(coordinator, plan)
            coordinator.commit()
            result.folded_until = plan.target.isoformat()
            result.scopes_updated = len(with_new_rows)
    result.finished = folding.after_steps(with_new_rows, deadline, result)
    return result


@dataclass(frozen=True)
class _Plan:
    watermark: datetime  # where the backlog starts (its hour is folded again whole)
    target: datetime  # the watermark once it is folded
    weeks: list[tuple[datetime, datetime]]  # those still to fold
    resumed: bool  # weeks were folded by a run that did not finish
    zones: list[str]  # the kept zones
    asked: dict[str, datetime]  # the zones asked for and not built yet, from the first folded hour
    kept: datetime | None  # every raw row from here on is kept

    @property
    def start(self) -> datetime:
        return floor_hour(self.watermark)


def _plan(connection: Connection, settle: timedelta) -> _Plan:
    instants = state.instants(connection)
    target = connection.execute(_NOW).scalar_one() - settle
    watermark = instants.get(state.FOLDED_UNTIL) or folding.first_watermark(connection, instants, target)
    done = instants.get(state.BACKLOG_DONE)
    zones = state.zones(connection).values()
    kept = [zone.zone for zone in zones if zone.materialized_at is not None]
    first = min(hours.first_hour(connection, raw.LIBRARY, (False, True)) or watermark, watermark)
    asked = {zone.zone: first for zone in zones if zone.materialized_at is None}
    todo = weeks(max(watermark, done or watermark), target)
    return _Plan(watermark, target, todo, done is not None, kept, asked, folding.kept_from(instants))


@contextmanager
def _refresh_lock() -> Iterator[Connection]:
    """A connection holding the refresh lock until the block ends (session level: across its transactions)."""
    with get_engine().connect() as connection:
        connection.execute(_HOLD)
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            connection.execute(_RELEASE)
            connection.commit()


def _fold_weeks(
    plan: _Plan,
    workers: int,
    deadline: float,
    on_step: Callable[[datetime], None] | None,
    result: folding.RefreshResult,
) -> bool:
    """Fold the weeks ``workers`` at a time, noting how far every week is folded (``backlog_folded_until``);
    False when out of time."""
    if not plan.weeks:
        return True
    ends = dict(plan.weeks)
    finished: set[datetime] = set()
    done_until = plan.weeks[0][0]
    queue = list(plan.weeks)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: dict[Future[None], datetime] = {}
        while queue or pending:
            while queue and len(pending) < workers and time.monotonic() <= deadline:
                start, end = queue.pop(0)
                pending[pool.submit(_fold_week, plan, start, end)] = start
            if not pending:
                return False
            completed, _ = wait(pending, return_when=FIRST_EXCEPTION)
            for future in completed:
                finished.add(pending.pop(future))
                future.result()
                result.steps += 1
            while done_until in finished:
                done_until = ends[done_until]
            if done_until != plan.weeks[0][0]:
                _note_done(done_until)
                if on_step is not None:
                    on_step(done_until)
    return True


def _fold_week(plan: _Plan, start: datetime, end: datetime) -> None:
    """One week's own roll-ups, in one transaction: its hours, peaks, referrers, breakdown hours and days,
    retention days, and its viewers merged into the all-time breakdown sketches."""
    with transaction() as connection:
        state.size_memory(connection)
        hours.fold_new(connection, start, end)
        referrers.fold_new(connection, start, end)
        first, last = breakdowns.fold_period(connection, start, end)
        audience.fold(connection, start, end)

        def lock() -> None:
            connection.execute(_MERGE_LOCK)

        breakdowns.merge_into_totals(connection, first, last, lock)


def _note_done(until: datetime) -> None:
    with transaction() as connection:
        state.set_instant(connection, state.BACKLOG_DONE, until)


def _write_days_and_blocks(plan: _Plan, workers: int) -> int:
    """Every kept zone's local days holding the backlog's hours (a local day straddles two weeks), every day of the
    zones asked for since the last refresh, and the blocks of the UTC days, ``workers`` at once; return the days
    written."""
    starts = {**dict.fromkeys(plan.zones, plan.start), **plan.asked}
    spans = [
        (zone, span) for zone, start in starts.items() for span in folding.zone_days(zone, start, start, plan.target)[0]
    ]

    def write_day(zone: str, span: Span) -> None:
        with transaction() as connection:
            folding.materialize_day(connection, zone, span, plan.target, plan.kept)

    def write_blocks() -> None:
        first, last = breakdowns.utc_midnight(plan.start).date(), (plan.target - _INSTANT).astimezone(UTC).date()
        with transaction() as connection:
            breakdown_blocks.build(connection, first, last, breakdowns.utc_midnight(plan.target).date())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(write_blocks)] + [pool.submit(write_day, zone, span) for zone, span in spans]
        for future in futures:
            future.result()
    return len(spans)


def _finish(connection: Connection, plan: _Plan) -> set[int]:
    """The last transaction: late progress before the backlog, every touched scope's all-time figures (the sum
    of its hours) and sketch, and the watermark moved to the target."""
    start = plan.start
    changed_from = start - folding.PROGRESS_WINDOW
    hours.refresh_progress(connection, changed_from, start)
    breakdowns.refresh_progress(connection, changed_from, start)
    audience.fold(connection, changed_from, start)
    for zone in plan.zones:
        for span in folding.zone_days(zone, changed_from, start, start)[1]:
            days.refresh_progress(connection, zone, folding.day_of(span), span.start, span.end)
    with_new_rows = hours.scopes_between(connection, start, plan.target)
    scopes = hours.scopes_between(connection, changed_from, plan.target)
    _set_totals(connection, scopes, with_new_rows, start, plan.target, UTC_ZONE in plan.zones or UTC_ZONE in plan.asked)
    for zone in plan.asked:
        state.mark_materialized(connection, zone, connection.execute(_NOW).scalar_one())
    state.set_instant(connection, state.FOLDED_UNTIL, plan.target)
    state.forget_instant(connection, state.BACKLOG_DONE)
    return with_new_rows


def _set_totals(
    connection: Connection, scopes: set[int], with_new_rows: set[int], watermark: datetime, target: datetime, utc: bool
) -> None:
    """Each scope's all-time figures set to the sum of its hours; the viewers of its hours in [watermark, target)
    merged into its sketch (from the UTC days holding them: a day's sketch is the merge of its hours')."""
    if not scopes:
        return
    ordered = sorted(scopes)
    current = {(row.scope_id, row.team): row for row in totals.read_many(connection, ordered)}
    figures = hours.all_time_figures(connection, ordered)
    sketches = {key: Sketch.decode(row.sketch) for key, row in current.items() if key[0] in with_new_rows}
    for scope, team, blob in _new_sketches(connection, sorted(with_new_rows), watermark, target, utc):
        sketches.setdefault((scope, team), Sketch()).merge_blob(blob)
    floor = state.instants(connection).get(state.FOLD_FLOOR)
    legacy = totals.legacy_viewers(connection, sorted(with_new_rows), floor) if floor else {}
    rows = [
        folding.total_row(key, figures.get(key, Figures()), current.get(key), sketches.get(key), legacy.get(key, 0))
        for key in figures.keys() | current.keys()
        if key[0] in scopes
    ]
    totals.write(connection, rows)


def _new_sketches(
    connection: Connection, scopes: list[int], watermark: datetime, target: datetime, utc: bool
) -> list[tuple[int, bool, bytes]]:
    """The sketches holding the viewers of [watermark, target): the UTC zone's days over it where they are kept
    (a tenth of the rows of its hours), else its hours."""
    if not scopes:
        return []
    if utc:
        first, last = watermark.astimezone(UTC).date(), (target - _INSTANT).astimezone(UTC).date()
        return days.day_sketches(connection, UTC_ZONE, scopes, first, last)
    return totals.new_hour_sketches(connection, scopes, watermark, target)
