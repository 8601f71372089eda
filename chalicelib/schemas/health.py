"""``/api/health``: liveness of the service and its dependencies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.base import Answer
from chalicelib.web.inputs import Instant


class DatabaseHealth(Answer):
    status: Literal["up", "down"]
    latency_ms: float | None = None
    error: str | None = None


class SchedulerHealth(Answer):
    status: Literal["up", "down", "unknown"]
    pending_schedules: int | None = None
    overdue_schedules: int | None = None
    failed_last24h: int | None = Field(default=None, alias="failedLast24h")
    group: str | None = None
    error: str | None = None


class Health(Answer):
    status: Literal["ok", "degraded"]
    timestamp: Instant
    uptime: float = Field(description="Seconds since this container started.")
    database: DatabaseHealth
    scheduler: SchedulerHealth
