"""Liveness of the service and its dependencies, for ``GET /api/health``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.timestamps import iso_utc

STARTED_AT = time.monotonic()


def check_database() -> dict[str, Any]:
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    started = time.perf_counter()
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported not raised
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


def check_scheduler() -> dict[str, Any]:
    """Reachability of EventBridge Scheduler and the number of pending schedules."""
    from chalicelib.services.scheduling.status import scheduler_status

    try:
        return scheduler_status()
    except Exception as exc:  # noqa: BLE001 - health reports, it never fails on a dependency
        return {"status": "unknown", "error": type(exc).__name__}


def health_report() -> tuple[dict[str, Any], bool]:
    """The report and whether the database (without which nothing works) is up."""
    database = check_database()
    scheduler = check_scheduler() if database["status"] == "up" else {"status": "unknown"}
    healthy = database["status"] == "up" and scheduler.get("status") == "up"
    report = {
        "status": "ok" if healthy else "degraded",
        "timestamp": iso_utc(datetime.now(UTC)),
        "uptime": round(time.monotonic() - STARTED_AT, 3),
        "database": database,
        "scheduler": scheduler,
    }
    return report, database["status"] == "up"
