"""Scheduled publish/unpublish on EventBridge Scheduler."""

from __future__ import annotations

from typing import Any

from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.observability import logger, metrics
from chalicelib.repositories import schedules as schedules_repo


def scheduler_status() -> dict[str, Any]:
    """Health of the scheduling side: Scheduler reachable, and the pending count (the seed's queue gauge)."""
    from aws_lambda_powertools.metrics import MetricUnit

    with session_scope() as session:
        pending = schedules_repo.count_pending(session)
    metrics.add_metric(name="PendingSchedules", unit=MetricUnit.Count, value=pending)
    status = {"status": "up", "pendingSchedules": pending, "group": get_settings().schedule_group_name}
    try:
        from chalicelib.aws import client

        client("scheduler").get_schedule_group(Name=get_settings().schedule_group_name)
    except Exception as exc:  # noqa: BLE001 - reported as "down", never raised from health
        logger.warning("Scheduler unreachable", extra={"error": type(exc).__name__})
        status.update(status="down", error=type(exc).__name__)
    return status
