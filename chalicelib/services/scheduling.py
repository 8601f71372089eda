"""Scheduled publish/unpublish on EventBridge Scheduler.

Each pending action is one one-shot Scheduler schedule (``at(...)`` in the
admin's IANA zone) named ``video-<id>-<action>`` in the group
``VIDEO_SCHEDULE_GROUP``, and one ``pending`` row in ``video_schedule_history``.
Its target is the ``publish_scheduled_video`` Lambda function, which receives the
schedule's ``Input`` JSON as its event and calls :func:`execute_scheduled_action`.

Consistency rules (database and Scheduler never disagree for long):

* The schedule is written inside the database transaction, before its commit:
  if Scheduler fails, the transaction rolls back (503, nothing changed); if the
  commit fails after the schedule exists, the schedule is deleted (or the one
  it replaced is restored) by :func:`_undo_schedule_write`.
* Should that clean-up fail too, the handler's stale check makes the leftover
  schedule harmless (its history row is not pending, or the video's pending
  instant differs) and :func:`reconcile` deletes it on its next run.
* Delivery is at-least-once, so the handler locks the video and the history row
  and acts only while both still describe the event it received.

The emulators (moto, LocalStack) accept names, times and groups AWS rejects, so
everything is validated here before Scheduler is called.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.config import Settings, get_settings
from chalicelib.db.engine import session_scope
from chalicelib.db.models import Video, VideoScheduleHistory
from chalicelib.errors import InvalidInput, NotFound, PermissionDenied, ServiceUnavailable, Unprocessable
from chalicelib.observability import logger, metrics
from chalicelib.repositories import schedules as schedules_repo
from chalicelib.repositories import videos as videos_repo
from chalicelib.repositories.schedules import CANCELLED, COMPLETED, FAILED, OUTSTANDING, PENDING, SKIPPED

ACTIONS = ("publish", "unpublish")
HANDLER_NAME = "publish_scheduled_video"
# Scheduler fires within the minute of its at() time; anything sooner than this is "now", not a schedule.
MIN_LEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=5 * 366)
RETRY_ATTEMPTS = 10
MAX_EVENT_AGE_SECONDS = 3600
# A failed row with no retry left after this long stops showing as the video's pending instant.
FAILED_GIVE_UP_AFTER = timedelta(hours=2)
# A schedule this young may belong to an API call whose transaction has not committed yet.
ORPHAN_MIN_AGE = timedelta(minutes=2)
NAME_PATTERN = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
SCHEDULE_NAME_PATTERN = re.compile(r"^video-(\d+)-(publish|unpublish)$")
ZONE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
MAX_TIME_TEXT = 64


# --- Time handling ----------------------------------------------------------------------------


def resolve_zone(name: str | None) -> tuple[str, ZoneInfo]:
    """An IANA zone by name (the configured default when omitted); unknown → 400."""
    zone_name = (name if name is not None else get_settings().schedule_default_timezone).strip()
    if not zone_name or len(zone_name) > 64 or not ZONE_PATTERN.match(zone_name):
        raise InvalidInput(f"Unknown time zone {zone_name[:64]!r}: use an IANA name such as Europe/Berlin")
    try:
        return zone_name, ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(f"Unknown time zone {zone_name!r}: use an IANA name such as Europe/Berlin") from exc


def parse_instant(raw: str, zone: ZoneInfo, field: str) -> datetime:
    """The UTC instant an admin meant, to the second.

    With an offset or ``Z`` the text is an absolute instant. Without one it is
    wall-clock time in ``zone``: a time inside a spring-forward gap does not exist
    (422; detected because it does not survive a round trip through UTC), and an
    ambiguous fall-back time takes its first occurrence (``fold=0``).
    """
    text = raw.strip()
    if not text or len(text) > MAX_TIME_TEXT:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time, e.g. 2030-01-15T09:00") from exc
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=zone, fold=0)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != parsed:
            raise Unprocessable(f"{field} {text} does not exist in {zone.key} (clocks skip it for daylight saving)")
        parsed = local
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError as exc:
        raise Unprocessable(f"{field} is out of range") from exc


def check_window(instant: datetime, now: datetime, field: str) -> None:
    if instant < now + MIN_LEAD:
        raise Unprocessable(f"{field} must be at least one minute in the future")
    if instant > now + MAX_AHEAD:
        raise Unprocessable(f"{field} must be within five years")


def is_ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time occurs twice in ``zone`` (the hour clocks go back)."""
    naive = wall.replace(tzinfo=None)
    return naive.replace(tzinfo=zone, fold=0).utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset()


def at_expression(instant: datetime, zone_name: str) -> tuple[str, str]:
    """``(ScheduleExpression, ScheduleExpressionTimezone)`` for a one-shot schedule.

    The wall time in the admin's zone, except when that wall time is ambiguous
    (it occurs twice on the fall-back night): AWS does not document which
    occurrence an ``at()`` then means, so the same instant is written in UTC.
    """
    zone = ZoneInfo(zone_name)
    local = instant.astimezone(zone)
    if is_ambiguous(local, zone):
        local, zone_name = instant.astimezone(UTC), "UTC"
    return f"at({local:%Y-%m-%dT%H:%M:%S})", zone_name


def parse_at_expression(expression: str, zone_name: str | None) -> datetime | None:
    """The UTC instant of an ``at()`` expression (None for rate/cron); used by reconcile and the dispatcher."""
    match = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", expression.strip())
    if match is None:
        return None
    zone = ZoneInfo(zone_name or "UTC")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone, fold=0).astimezone(UTC)


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Scheduler calls --------------------------------------------------------------------------


def schedule_name(video_id: int, action: str) -> str:
    name = f"video-{video_id}-{action}"
    if not NAME_PATTERN.match(name):  # cannot happen for valid ids; never send AWS a name it rejects
        raise InvalidInput("Invalid schedule name")
    return name


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _client_error() -> type[Exception]:
    """botocore's ClientError (an answer from the service, e.g. ConflictException), imported lazily."""
    from botocore.exceptions import ClientError

    return ClientError


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


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


def _scheduler() -> Any:
    from chalicelib.aws import client

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


def _check_group(settings: Settings) -> None:
    """The group must exist (moto answers a missing group with a 500, AWS with a 404)."""
    try:
        with _scheduler_call("GetScheduleGroup"):
            _scheduler().get_schedule_group(Name=settings.schedule_group_name)
    except ServiceUnavailable as exc:
        if _error_code(exc.__cause__) == "ResourceNotFoundException":  # type: ignore[arg-type]
            raise ServiceUnavailable(f"Schedule group {settings.schedule_group_name} does not exist") from exc
        raise


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
    def of(cls, row: VideoScheduleHistory) -> ScheduleSpec:
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
            _scheduler().create_schedule(ClientToken=f"{spec.name}-h{spec.history_id}"[:64], **request)
        except _client_error() as exc:
            if _error_code(exc) != "ConflictException":
                raise
            _scheduler().update_schedule(**request)


def delete_schedule(name: str, settings: Settings) -> bool:
    """Delete a schedule; False when it was already gone (fired, or never written)."""
    with _scheduler_call("DeleteSchedule"):
        try:
            _scheduler().delete_schedule(Name=name, GroupName=settings.schedule_group_name)
        except _client_error() as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            return False
    return True


def get_schedule(name: str, settings: Settings) -> dict[str, Any] | None:
    with _scheduler_call("GetSchedule"):
        try:
            return dict(_scheduler().get_schedule(Name=name, GroupName=settings.schedule_group_name))
        except _client_error() as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            return None


def list_schedules(settings: Settings) -> list[dict[str, Any]]:
    """Summaries (Name, State, LastModificationDate, ...) of every schedule in the group."""
    with _scheduler_call("ListSchedules"):
        paginator = _scheduler().get_paginator("list_schedules")
        return [
            dict(item)
            for page in paginator.paginate(GroupName=settings.schedule_group_name)
            for item in page.get("Schedules", [])
        ]


def _undo_schedule_write(name: str, previous: ScheduleSpec | None, settings: Settings) -> None:
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


# --- Admin operations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheduled:
    job_id: str
    scheduled_for: datetime


def pending_column(action: str) -> str:
    return "scheduled_publish_at" if action == "publish" else "scheduled_unpublish_at"


def check_action(action: str) -> str:
    if action not in ACTIONS:
        raise InvalidInput("action must be publish or unpublish")
    return action


def _check_order(video: Video, action: str, instant: datetime, field: str) -> None:
    """An unpublish must come after a pending publish (and a publish before a pending unpublish)."""
    if action == "unpublish" and video.scheduled_publish_at is not None and instant <= video.scheduled_publish_at:
        raise Unprocessable(f"{field} must be after the pending publish at {iso(video.scheduled_publish_at)}")
    if action == "publish" and video.scheduled_unpublish_at is not None and instant >= video.scheduled_unpublish_at:
        raise Unprocessable(f"{field} must be before the pending unpublish at {iso(video.scheduled_unpublish_at)}")


def schedule_action(
    video_id: int,
    action: str,
    when: str,
    timezone: str | None,
    user_id: int,
    *,
    now: datetime | None = None,
) -> Scheduled:
    """Schedule (or reschedule) ``action`` for a video; replaces the pending one of that action."""
    check_action(action)
    field = "publishAt" if action == "publish" else "unpublishAt"
    zone_name, zone = resolve_zone(timezone)
    instant = parse_instant(when, zone, field)
    check_window(instant, now or datetime.now(UTC), field)
    settings = require_config()
    _check_group(settings)
    name = schedule_name(video_id, action)
    written = False
    previous: ScheduleSpec | None = None
    try:
        with session_scope() as session:
            video = _locked_video(session, video_id)
            _check_order(video, action, instant, field)
            if not schedules_repo.user_exists(session, user_id):
                # scheduled_by_user_id references users; a token for a user this database
                # does not know (deleted, or another environment's) cannot own a schedule.
                raise PermissionDenied("Your user account is not known to the media database")
            replaced = schedules_repo.get_outstanding(session, video_id, action, getattr(video, pending_column(action)))
            if replaced is not None:
                previous = ScheduleSpec.of(replaced) if replaced.status == PENDING else None
                replaced.status = CANCELLED
                session.flush()  # frees the one-pending-per-action slot before the new row
            row = schedules_repo.add(
                session,
                VideoScheduleHistory(
                    video_id=video_id,
                    action=action,
                    scheduled_for=instant,
                    timezone=zone_name,
                    status=PENDING,
                    scheduled_by_user_id=user_id,
                ),
            )
            put_schedule(ScheduleSpec.of(row), settings)  # ServiceUnavailable here rolls everything back
            written = True
            setattr(video, pending_column(action), instant)
    except Exception as exc:
        if written:
            _undo_schedule_write(name, previous, settings)
        elif _is_integrity_error(exc):  # the user row vanished between the check and the insert
            raise PermissionDenied("Your user account is not known to the media database") from exc
        raise
    logger.info("Scheduled video action", extra={"video_id": video_id, "action": action, "at": iso(instant)})
    return Scheduled(job_id=name, scheduled_for=instant)


def cancel_action(video_id: int, action: str) -> None:
    """Cancel the video's pending ``action``: schedule deleted, field cleared, row ``cancelled``."""
    check_action(action)
    settings = require_config()
    deleted = False
    restore: ScheduleSpec | None = None
    try:
        with session_scope() as session:
            video = _locked_video(session, video_id)
            row = schedules_repo.get_outstanding(session, video_id, action, getattr(video, pending_column(action)))
            if row is None:
                raise NotFound(f"No pending {action} schedule for this video")
            restore = ScheduleSpec.of(row) if row.status == PENDING else None
            row.status = CANCELLED
            setattr(video, pending_column(action), None)
            session.flush()
            deleted = delete_schedule(schedule_name(video_id, action), settings)
    except Exception:
        if deleted and restore is not None:
            _undo_schedule_write(restore.name, restore, settings)
        raise
    logger.info("Cancelled video schedule", extra={"video_id": video_id, "action": action})


def _is_integrity_error(exc: Exception) -> bool:
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


def _locked_video(session: Any, video_id: int) -> Video:
    video = videos_repo.get(session, video_id, for_update=True)
    if video is None:
        raise NotFound("Video not found")
    return video


def upcoming(limit: int) -> list[tuple[VideoScheduleHistory, str | None]]:
    with session_scope() as session:
        return schedules_repo.upcoming(session, limit)


def history(video_id: int) -> list[VideoScheduleHistory]:
    with session_scope() as session:
        if videos_repo.get(session, video_id) is None:
            raise NotFound("Video not found")
        return schedules_repo.history_for_video(session, video_id)


# --- The handler Scheduler invokes ------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledEvent:
    video_id: int
    action: str
    scheduled_for: datetime
    history_id: int
    timezone: str
    scheduled_by_user_id: int | None

    @classmethod
    def parse(cls, event: Any) -> ScheduledEvent:
        """The schedule's Input JSON; ValueError when it is not one of ours."""
        if not isinstance(event, Mapping):
            raise ValueError("event is not an object")
        video_id, history_id = event.get("videoId"), event.get("historyId")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (video_id, history_id)):
            raise ValueError("videoId and historyId must be positive integers")
        action = event.get("action")
        if action not in ACTIONS:
            raise ValueError("action must be publish or unpublish")
        scheduled_for = datetime.fromisoformat(str(event.get("scheduledFor")))
        if scheduled_for.tzinfo is None:
            raise ValueError("scheduledFor must carry an offset")
        user = event.get("scheduledByUserId")
        return cls(
            video_id=int(video_id),  # type: ignore[arg-type]
            action=str(action),
            scheduled_for=scheduled_for.astimezone(UTC),
            history_id=int(history_id),  # type: ignore[arg-type]
            timezone=str(event.get("timezone") or "UTC"),
            scheduled_by_user_id=user if isinstance(user, int) else None,
        )


def execute_scheduled_action(event: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Publish or unpublish as a schedule's event says, at most once per history row.

    Idempotent under at-least-once delivery: acts only while the history row is
    still outstanding and the video's pending instant still equals the event's
    ``scheduledFor``; anything else (duplicate, cancelled, replaced, deleted
    video) is a stale delivery and changes nothing. On failure the row becomes
    ``failed`` with the error text and the exception propagates, so the delivery
    is retried (Lambda's asynchronous retries, then its failure destination).
    """
    try:
        request = ScheduledEvent.parse(event)
    except (ValueError, TypeError) as exc:
        logger.error("Ignoring malformed schedule event", extra={"error": str(exc)})
        return {"status": "ignored", "reason": str(exc)}
    try:
        status = _apply(request, now or datetime.now(UTC))
    except Exception as exc:
        _record_failure(request, exc)
        raise
    logger.info("Scheduled action handled", extra={"history_id": request.history_id, "status": status})
    if status in (COMPLETED, SKIPPED):
        _notify(request, status, None)
    return {"status": status, "historyId": request.history_id, "videoId": request.video_id}


def _apply(request: ScheduledEvent, now: datetime) -> str:
    from aws_lambda_powertools.metrics import MetricUnit

    column = pending_column(request.action)
    with session_scope() as session:
        video = videos_repo.get(session, request.video_id, for_update=True)  # same lock order as the API
        row = schedules_repo.get(session, request.history_id, for_update=True)
        if not _is_current(request, video, row, column):
            metrics.add_metric(name="StaleScheduleDeliveries", unit=MetricUnit.Count, value=1)
            return "stale"
        assert video is not None and row is not None
        target_state = request.action == "publish"
        already = video.is_published == target_state
        video.is_published = target_state
        setattr(video, column, None)
        row.status = SKIPPED if already else COMPLETED
        row.executed_at = now
        row.error = f"Video was already {request.action}ed; nothing to do" if already else None
    metrics.add_metric(name="ScheduledActionsCompleted", unit=MetricUnit.Count, value=1)
    return row.status


def _is_current(request: ScheduledEvent, video: Video | None, row: VideoScheduleHistory | None, column: str) -> bool:
    return (
        video is not None
        and row is not None
        and row.video_id == request.video_id
        and row.action == request.action
        and row.status in OUTSTANDING
        and row.scheduled_for == request.scheduled_for
        and getattr(video, column) == request.scheduled_for
    )


def _record_failure(request: ScheduledEvent, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"
    logger.exception("Scheduled action failed", extra={"history_id": request.history_id})
    metrics_failure("ScheduledActionsFailed")
    try:
        with session_scope() as session:
            schedules_repo.record_failure(session, request.history_id, error)
    except Exception:  # noqa: BLE001 - the original error is what propagates
        logger.exception("Could not record the failure", extra={"history_id": request.history_id})
    _notify(request, FAILED, error)


def _notify(request: ScheduledEvent, status: str, error: str | None) -> None:
    from chalicelib.services.notifications import notify_schedule_outcome

    notify_schedule_outcome(
        {
            "videoId": request.video_id,
            "action": request.action,
            "status": status,
            "scheduledFor": iso(request.scheduled_for),
            "historyId": request.history_id,
            "error": error,
        }
    )


# --- Reconcile, health, status ----------------------------------------------------------------


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
    _check_group(settings)
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


def scheduler_status() -> dict[str, Any]:
    """Health of the scheduling side: Scheduler reachable, pending and overdue counts (the seed's queue gauge)."""
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
        _scheduler().get_schedule_group(Name=get_settings().schedule_group_name)
    except Exception as exc:  # noqa: BLE001 - reported as "down", never raised from health
        logger.warning("Scheduler unreachable", extra={"error": type(exc).__name__})
        status.update(status="down", error=type(exc).__name__)
    return status


def queue_status(*, now: datetime | None = None, limit: int = 50) -> dict[str, Any]:
    """Pending and recently failed schedules (``make schedules``, the seed's ``queue:status``)."""
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
