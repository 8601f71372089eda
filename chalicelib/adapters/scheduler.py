"""EventBridge Scheduler: every call this service makes to Scheduler.

One place builds the one-shot schedule (``schedule_request``: at() expression,
FlexibleTimeWindow OFF, ActionAfterCompletion DELETE, retry policy, dead-letter
queue) and turns any Scheduler failure into a 503 (``_scheduler_call``), so the
caller's database transaction rolls back. boto3/botocore are imported lazily
(through :mod:`chalicelib.adapters.aws`) to keep them off the cold-start path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.config import Settings, get_settings
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.observability import logger, metrics
from chalicelib.services.scheduling.times import NAME_PATTERN, at_expression, iso, schedule_name

RETRY_ATTEMPTS = 10
MAX_EVENT_AGE_SECONDS = 3600


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _client_error() -> type[Exception]:
    """botocore's ClientError (an answer from the service, e.g. ConflictException), imported lazily."""
    from botocore.exceptions import ClientError

    return ClientError


def _error_code(exc: BaseException | None) -> str:
    """The AWS error code of a ClientError; "" for anything else (a read timeout has ``response=None``)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


@contextmanager
def _scheduler_call(what: str) -> Iterator[None]:
    """Any failure talking to Scheduler is a 503: the caller's transaction rolls back."""
    try:
        yield
    except _aws_errors() as exc:
        logger.warning("Scheduler call failed", extra={"call": what, "error": type(exc).__name__})
        metrics_failure("SchedulerErrors")
        raise ServiceUnavailable("The scheduler is unavailable, try again shortly") from exc


def metrics_failure(name: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def scheduler_client() -> Any:
    from chalicelib.adapters.aws import client

    return client("scheduler")


def require_config() -> Settings:
    """Scheduling settings, checked before anything is written (503 when incomplete)."""
    settings = get_settings()
    missing = [
        env
        for env, value in (
            ("VIDEO_SCHEDULE_TARGET_ARN", settings.schedule_target_arn),
            ("VIDEO_SCHEDULE_ROLE_ARN", settings.schedule_role_arn),
        )
        if not value
    ]
    if missing:
        raise ServiceUnavailable(f"Scheduling is not configured ({', '.join(missing)} unset)")
    if not NAME_PATTERN.match(settings.schedule_group_name):
        raise ServiceUnavailable("Scheduling is misconfigured (VIDEO_SCHEDULE_GROUP is not a valid group name)")
    return settings


def check_group(settings: Settings) -> None:
    """The group must exist (moto answers a missing group with a 500, AWS with a 404)."""
    try:
        with _scheduler_call("GetScheduleGroup"):
            scheduler_client().get_schedule_group(Name=settings.schedule_group_name)
    except ServiceUnavailable as exc:
        if _error_code(exc.__cause__) == "ResourceNotFoundException":
            raise ServiceUnavailable(f"Schedule group {settings.schedule_group_name} does not exist") from exc
        raise


class ScheduledAction(Protocol):
    """What a schedule is made from: a history entry, or the row a service is writing."""

    @property
    def id(self) -> int: ...
    @property
    def video_id(self) -> int: ...
    @property
    def action(self) -> str: ...
    @property
    def scheduled_for(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...
    @property
    def scheduled_by_user_id(self) -> int: ...


@dataclass(frozen=True)
class ScheduleSpec:
    """Everything one Scheduler schedule is made from; also the handler's event."""

    video_id: int
    action: str
    scheduled_for: datetime
    timezone: str
    scheduled_by_user_id: int
    history_id: int

    @property
    def name(self) -> str:
        return schedule_name(self.video_id, self.action)

    def payload(self) -> dict[str, Any]:
        return {
            "videoId": self.video_id,
            "action": self.action,
            "scheduledFor": iso(self.scheduled_for),
            "timezone": self.timezone,
            "scheduledByUserId": self.scheduled_by_user_id,
            "historyId": self.history_id,
        }

    @classmethod
    def of(cls, row: ScheduledAction) -> ScheduleSpec:
        return cls(row.video_id, row.action, row.scheduled_for, row.timezone, row.scheduled_by_user_id, row.id)


def schedule_request(spec: ScheduleSpec, settings: Settings) -> dict[str, Any]:
    """The CreateSchedule/UpdateSchedule arguments (update replaces every field, so both send all)."""
    expression, zone_name = at_expression(spec.scheduled_for, spec.timezone)
    target: dict[str, Any] = {
        "Arn": settings.schedule_target_arn,
        "RoleArn": settings.schedule_role_arn,
        "Input": json.dumps(spec.payload(), separators=(",", ":")),
        "RetryPolicy": {"MaximumRetryAttempts": RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS},
    }
    if settings.schedule_dlq_arn:
        target["DeadLetterConfig"] = {"Arn": settings.schedule_dlq_arn}
    return {
        "Name": spec.name,
        "GroupName": settings.schedule_group_name,
        "Description": f"{spec.action} video {spec.video_id} (history {spec.history_id})",
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": zone_name,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "State": "ENABLED",
        "Target": target,
    }


def put_schedule(spec: ScheduleSpec, settings: Settings) -> None:
    """Create the video's schedule for this action, or replace the one already there."""
    request = schedule_request(spec, settings)
    with _scheduler_call("CreateSchedule"):
        try:
            scheduler_client().create_schedule(ClientToken=f"{spec.name}-h{spec.history_id}"[:64], **request)
        except _client_error() as exc:
            if _error_code(exc) != "ConflictException":
                raise
            scheduler_client().update_schedule(**request)


def delete_schedule(name: str, settings: Settings) -> bool:
    """Delete a schedule; False when it was already gone (fired, or never written)."""
    with _scheduler_call("DeleteSchedule"):
        try:
            scheduler_client().delete_schedule(Name=name, GroupName=settings.schedule_group_name)
        except _client_error() as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            return False
    return True


def get_schedule(name: str, settings: Settings) -> dict[str, Any] | None:
    with _scheduler_call("GetSchedule"):
        try:
            return dict(scheduler_client().get_schedule(Name=name, GroupName=settings.schedule_group_name))
        except _client_error() as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            return None


def list_schedules(settings: Settings) -> list[dict[str, Any]]:
    """Summaries (Name, State, LastModificationDate, ...) of every schedule in the group."""
    with _scheduler_call("ListSchedules"):
        paginator = scheduler_client().get_paginator("list_schedules")
        return [
            dict(item)
            for page in paginator.paginate(GroupName=settings.schedule_group_name)
            for item in page.get("Schedules", [])
        ]


def undo_schedule_write(name: str, previous: ScheduleSpec | None, settings: Settings) -> None:
    """After the database refused a change, put Scheduler back as it was: best effort.

    If this fails as well, nothing breaks: the handler ignores a schedule whose
    history row is not pending (stale check) and :func:`reconcile` repairs both
    sides on its next run.
    """
    try:
        if previous is not None:
            put_schedule(previous, settings)
        else:
            delete_schedule(name, settings)
    except ServiceUnavailable:
        logger.exception("Could not undo a schedule write; reconcile will repair it", extra={"schedule": name})
