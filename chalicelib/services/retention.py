"""Daily roll-ups and retention of raw analytics rows.

* :func:`fold_closed_days` (every few minutes, from the analytics refresh) folds each
  closed UTC day into ``video_daily_rollups`` / ``video_daily_referrers``, oldest
  first, and re-folds the last two days so late heartbeats and completions land.
* :func:`run` (daily) deletes raw views and events older than
  ``VIDEO_ANALYTICS_RETENTION_DAYS`` (default 90) in bounded batches, a transaction
  each, **after** making sure their days are folded, so totals and time series
  survive and no statement holds locks on millions of rows. A run stops at its time
  budget; the next one carries on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from chalicelib.observability import logger
from chalicelib.repositories import retention as repo

DELETE_BATCH_ROWS = 5000
TIME_BUDGET_SECONDS = 600.0
REFOLD_DAYS = 2


@dataclass
class RetentionResult:
    first_kept_day: str
    days_folded: int = 0
    views_deleted: int = 0
    events_deleted: int = 0
    finished: bool = True


def first_kept_day(now: datetime | None = None) -> date:
    """Raw rows of this UTC day and later are kept; earlier days exist only as roll-ups."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return (moment - timedelta(days=get_settings().analytics_retention_days)).date()


def fold_closed_days(now: datetime | None = None) -> int:
    """Fold every closed day not folded yet and re-fold the last two; return the days written."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    yesterday = moment.date() - timedelta(days=1)
    kept_from = first_kept_day(moment)
    engine = get_engine()
    with engine.begin() as connection:
        latest = repo.latest_folded_day(connection)
        day = repo.oldest_day(connection) if latest is None else latest + timedelta(days=1)
    if day is None:
        return 0
    day = min(day, max(kept_from, yesterday - timedelta(days=REFOLD_DAYS - 1)))
    folded = 0
    while day <= yesterday:
        replace = day >= kept_from and day > yesterday - timedelta(days=REFOLD_DAYS)
        with engine.begin() as connection:  # one transaction per day: all videos of a day at once
            repo.fold_day(connection, day, replace=replace)
        folded += 1
        day += timedelta(days=1)
    return folded


def run(
    now: datetime | None = None, batch: int = DELETE_BATCH_ROWS, budget_seconds: float = TIME_BUDGET_SECONDS
) -> RetentionResult:
    """Fold, then delete raw rows of the days before :func:`first_kept_day`."""
    kept_from = first_kept_day(now)
    result = RetentionResult(first_kept_day=kept_from.isoformat())
    result.days_folded = fold_closed_days(now)
    deadline = time.monotonic() + budget_seconds
    last_deleted_day = kept_from - timedelta(days=1)
    engine = get_engine()
    for table in ("video_events", "video_views"):
        while True:
            with engine.begin() as connection:
                deleted = repo.delete_batch(connection, table, last_deleted_day, batch)
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
