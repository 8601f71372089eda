"""Scheduled publish and unpublish."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.schemas.base import Answer, Query, RequestBody
from chalicelib.web.inputs import Instant, QueryInt, Text

When = Annotated[
    Text,
    Field(
        description="ISO 8601. With an offset or Z it is an instant; without one, wall-clock time in `timezone`.",
        examples=["2030-01-15T09:00"],
    ),
]
Zone = Annotated[
    Text,
    Field(
        description="Canonical IANA time zone (default: VIDEO_SCHEDULE_DEFAULT_TIMEZONE).", examples=["Europe/Berlin"]
    ),
]


class SchedulePublishBody(RequestBody):
    publish_at: When = Field(alias="publishAt")
    timezone: Zone | None = None


class ScheduleUnpublishBody(RequestBody):
    unpublish_at: When = Field(alias="unpublishAt")
    timezone: Zone | None = None


class Scheduled(Answer):
    job_id: str = Field(description="The EventBridge Scheduler schedule's name.")
    scheduled_for: Instant


class UpcomingQuery(Query):
    limit: QueryInt = Field(default=100, ge=1, le=500)


class UpcomingSchedule(Answer):
    job_id: str
    video_id: int
    title: str | None
    action: Literal["publish", "unpublish"]
    scheduled_for: Instant
    timezone: str
    scheduled_by_user_id: int


class UpcomingSchedules(Answer):
    schedules: list[UpcomingSchedule]


class HistoryEntry(Answer):
    id: int
    action: Literal["publish", "unpublish"]
    scheduled_for: Instant
    executed_at: Instant | None
    status: Literal["pending", "completed", "failed", "cancelled", "skipped"]
    error: str | None
    scheduled_by_user_id: int
    created_at: Instant


class ScheduleHistory(Answer):
    history: list[HistoryEntry]


class FailedQuery(Query):
    days: QueryInt = Field(default=7, ge=1, le=90, description="How far back to look.")
    limit: QueryInt = Field(default=50, ge=1, le=500)


class FailedSchedule(Answer):
    job_id: str
    video_id: int
    title: str | None
    action: Literal["publish", "unpublish"]
    scheduled_for: Instant
    executed_at: Instant | None
    error: str | None


class FailedSchedules(Answer):
    schedules: list[FailedSchedule]
