"""Retention of raw views and events: gone once folded and older than ``VIDEO_ANALYTICS_RETENTION_DAYS``.

Roll-ups (hours, days, totals, referrers, audience) are kept for good, so every figure
survives; only exact recounts over raw rows stop being possible before the retention
floor, which is recorded (``raw_kept_from``) before anything is removed so that reports
never count exactly over rows that are gone. Raw rows are partitioned by month: a month
wholly before the floor is detached and dropped (no row-by-row delete, no vacuum debt); a
month straddling the floor waits until it is wholly past it. Rows in the default
partition (months nobody created) are deleted in bounded batches, a transaction each; a
run stops at its time budget and the next one carries on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from chalicelib.config import get_settings
from chalicelib.db.engine import transaction
from chalicelib.observability import logger
from chalicelib.repositories import partitions
from chalicelib.repositories.analytics import maintenance, state
from chalicelib.services.analytics.folding import PROGRESS_WINDOW
from chalicelib.services.analytics.periods import floor_hour

DELETE_BATCH_ROWS = 5000
TIME_BUDGET_SECONDS = 600.0


@dataclass
class RetentionResult:
    kept_from: str | None = None
    partitions_dropped: list[str] = field(default_factory=list)
    views_deleted: int = 0
    events_deleted: int = 0
    finished: bool = True


def retention_floor(now: datetime | None = None) -> datetime:
    """UTC midnight ``VIDEO_ANALYTICS_RETENTION_DAYS`` ago: raw rows before it may go."""
    moment = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=get_settings().analytics_retention_days)
    return datetime.combine(moment.date(), clock(0), tzinfo=UTC)


def run(
    now: datetime | None = None, batch: int = DELETE_BATCH_ROWS, budget_seconds: float = TIME_BUDGET_SECONDS
) -> RetentionResult:
    """Raise the floor (never past what the refresh has folded for good), then delete below it."""
    result = RetentionResult()
    floor = _raise_floor(retention_floor(now))
    if floor is None:
        logger.info("Analytics retention: nothing folded yet, nothing deleted")
        return result
    result.kept_from = floor.isoformat()
    with transaction() as connection:
        result.partitions_dropped = partitions.drop_before(connection, floor)
    deadline = time.monotonic() + budget_seconds
    for table in ("video_events", "video_views"):
        while True:
            with transaction() as connection:
                deleted = maintenance.delete_raw_batch(connection, table, floor, batch)
            if table == "video_views":
                result.views_deleted += deleted
            else:
                result.events_deleted += deleted
            if deleted < batch:
                break
            if time.monotonic() > deadline:
                result.finished = False
                break
    logger.info("Analytics retention run", extra={"retention": result.__dict__})
    return result


def _raise_floor(wanted: datetime) -> datetime | None:
    with transaction() as connection:
        state.lock(connection)
        instants = state.instants(connection)
        folded = instants.get(state.FOLDED_UNTIL)
        if folded is None:
            return None
        # Rows the refresh may still re-read (late heartbeats) stay, whatever the setting says.
        floor = min(wanted, floor_hour(folded) - PROGRESS_WINDOW)
        current = instants.get(state.RAW_KEPT_FROM)
        if current is not None and current >= floor:
            return current
        state.set_instant(connection, state.RAW_KEPT_FROM, floor)
        return floor
