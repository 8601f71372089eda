"""``/api/health``: liveness of the service, and of its dependencies for admins."""

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


class PublicHealth(Answer):
    """What anyone may know: whether the service works. Error names and schedule counts are for admins."""

    status: Literal["ok", "degraded"]


class Health(PublicHealth):
    """The report an admin gets: each dependency, its latency or the class of its error."""

    timestamp: Instant
    uptime: float = Field(description="Seconds since this container started.")
    database: DatabaseHealth
    scheduler: SchedulerHealth


HealthAnswer = Health | PublicHealth
