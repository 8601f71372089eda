"""Status of scheduled publishing: the health check's Scheduler section and ``make schedules``.

Read-only: Scheduler reachability, pending/overdue/failed counts (also as EMF
metrics), and the pending and recently failed schedules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.scheduler import ScheduleSpec, scheduler_client
from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.observability import logger, metrics
from chalicelib.repositories import schedules as schedules_repo
from chalicelib.repositories.schedules import FAILED


def scheduler_status() -> dict[str, Any]:
    """Health of the scheduling side: Scheduler reachable, pending and overdue counts."""
    from aws_lambda_powertools.metrics import MetricUnit

    now = datetime.now(UTC)
    with session_scope() as session:
        pending = schedules_repo.count_pending(session)
        overdue = schedules_repo.count_overdue(session, now - timedelta(minutes=5))
        failed = schedules_repo.count_failed_since(session, now - timedelta(hours=24))
    metrics.add_metric(name="PendingSchedules", unit=MetricUnit.Count, value=pending)
    metrics.add_metric(name="OverdueSchedules", unit=MetricUnit.Count, value=overdue)
    status: dict[str, Any] = {
        "status": "up",
        "pendingSchedules": pending,
        "overdueSchedules": overdue,
        "failedLast24h": failed,
        "group": get_settings().schedule_group_name,
    }
    try:
        scheduler_client().get_schedule_group(Name=get_settings().schedule_group_name)
    except Exception as exc:  # noqa: BLE001 - reported as "down", never raised from health
        logger.warning("Scheduler unreachable", extra={"error": type(exc).__name__})
        status.update(status="down", error=type(exc).__name__)
    return status


def queue_status(*, now: datetime | None = None, limit: int = 50) -> dict[str, Any]:
    """Pending and recently failed schedules (``make schedules``)."""
    now = now or datetime.now(UTC)
    with session_scope() as session:
        pending = [ScheduleSpec.of(row) for row, _ in schedules_repo.upcoming(session, limit)]
        failed = schedules_repo.recent(session, (FAILED,), now - timedelta(days=7), limit)
        failed_rows = [(ScheduleSpec.of(row), row.error) for row in failed]
    return {
        "scheduler": scheduler_status(),
        "pending": [spec.payload() | {"jobId": spec.name} for spec in pending],
        "recentlyFailed": [spec.payload() | {"jobId": spec.name, "error": error} for spec, error in failed_rows],
    }
