"""Reconcile: repair drift between pending history rows and Scheduler (every 15 minutes).

The safety net behind the consistency rules: it rewrites or runs pending rows
whose schedule is missing, deletes schedules with no pending row behind them,
and stops showing failed rows whose retries are long over.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.scheduler import (
    ScheduleSpec,
    check_group,
    delete_schedule,
    get_schedule,
    list_schedules,
    put_schedule,
    require_config,
)
from chalicelib.config import Settings
from chalicelib.db.engine import session_scope
from chalicelib.observability import logger
from chalicelib.repositories import schedules as schedules_repo
from chalicelib.services.scheduling.execution import execute_scheduled_action
from chalicelib.services.scheduling.times import MIN_LEAD, SCHEDULE_NAME_PATTERN, iso

# A failed row with no retry left after this long stops showing as the video's pending instant.
FAILED_GIVE_UP_AFTER = timedelta(hours=2)
# A schedule this young may belong to an API call whose transaction has not committed yet.
ORPHAN_MIN_AGE = timedelta(minutes=2)


def reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Repair drift between pending rows and Scheduler (runs every 15 minutes).

    * pending row, no schedule (or one carrying another history id): due →
      executed now through the handler; later → schedule written again;
    * schedule of ours with no pending row behind it → deleted (unless younger
      than ``ORPHAN_MIN_AGE``: its API transaction may not have committed yet);
    * failed row whose retries are long over → the video's pending instant cleared.
    """
    now = now or datetime.now(UTC)
    settings = require_config()
    check_group(settings)
    summary: Counter[str] = Counter()
    listed = {item["Name"]: item for item in list_schedules(settings)}
    with session_scope() as session:
        pending = {spec.name: spec for spec in (ScheduleSpec.of(row) for row in schedules_repo.all_pending(session))}
    for name, spec in pending.items():
        summary[_reconcile_pending(spec, name in listed, settings, now)] += 1
    for name, item in listed.items():
        if name not in pending and SCHEDULE_NAME_PATTERN.match(name) and _old_enough(item, now):
            delete_schedule(name, settings)
            summary["orphansDeleted"] += 1
    with session_scope() as session:
        summary["failuresAbandoned"] = schedules_repo.abandon_stale_failures(session, now - FAILED_GIVE_UP_AFTER)
    result = {key: int(value) for key, value in summary.items() if key != "ok"}
    logger.info("Reconciled schedules", extra={"summary": result})
    return result


def _reconcile_pending(spec: ScheduleSpec, listed: bool, settings: Settings, now: datetime) -> str:
    if listed:
        current = get_schedule(spec.name, settings)
        if current is not None and _carries(current, spec):
            return "ok"
    if spec.scheduled_for <= now:
        try:
            execute_scheduled_action(spec.payload(), now=now)
        except Exception:  # noqa: BLE001 - recorded as failed by the handler; go on with the rest
            return "executeFailed"
        if listed:
            delete_schedule(spec.name, settings)
        return "executedLate"
    if spec.scheduled_for < now + MIN_LEAD:
        return "ok"  # about to fire; a rewrite now could land in the past
    put_schedule(spec, settings)
    return "rescheduled"


def _carries(schedule: Mapping[str, Any], spec: ScheduleSpec) -> bool:
    try:
        payload = json.loads(schedule.get("Target", {}).get("Input") or "{}")
    except ValueError:
        return False
    return bool(payload.get("historyId") == spec.history_id and payload.get("scheduledFor") == iso(spec.scheduled_for))


def _old_enough(item: Mapping[str, Any], now: datetime) -> bool:
    modified = item.get("LastModificationDate") or item.get("CreationDate")
    if not isinstance(modified, datetime):
        return True
    return modified.astimezone(UTC) <= now - ORPHAN_MIN_AGE
