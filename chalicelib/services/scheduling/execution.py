"""Executing a delivered schedule: the ``publish_scheduled_video`` handler's work.

Delivery is at-least-once, so the handler locks the video and the history row
and acts only while both still describe the event it received; anything else is
a stale delivery and changes nothing. A failure marks the row ``failed`` and
re-raises so the delivery is retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.scheduler import metrics_failure
from chalicelib.db.engine import session_scope
from chalicelib.db.models import Video, VideoScheduleHistory
from chalicelib.observability import logger, metrics
from chalicelib.repositories import schedules as schedules_repo
from chalicelib.repositories import videos as videos_repo
from chalicelib.repositories.schedules import COMPLETED, FAILED, OUTSTANDING, SKIPPED
from chalicelib.services.scheduling.actions import ACTIONS, pending_column
from chalicelib.services.scheduling.times import iso

HANDLER_NAME = "publish_scheduled_video"


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
        video = videos_repo.lock(session, request.video_id)  # same lock order as the API
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
    from chalicelib.adapters.notifications import notify_schedule_outcome

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
