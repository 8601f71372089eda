"""What admins do with schedules: schedule, reschedule, cancel, list upcoming, read history.

Each change writes the Scheduler schedule inside the database transaction,
before its commit: a Scheduler failure rolls the transaction back (503, nothing
changed), and a commit failure afterwards deletes the new schedule or restores
the one it replaced (``undo_schedule_write``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.scheduler import (
    ScheduleSpec,
    check_group,
    delete_schedule,
    put_schedule,
    require_config,
    undo_schedule_write,
)
from chalicelib.db.engine import session_scope
from chalicelib.db.models import Video, VideoScheduleHistory
from chalicelib.domain.errors import InvalidInput, NotFound, PermissionDenied, Unprocessable
from chalicelib.domain.schedule import ScheduleEntry
from chalicelib.observability import logger
from chalicelib.repositories import schedules as schedules_repo
from chalicelib.repositories import videos as videos_repo
from chalicelib.repositories.schedules import CANCELLED, PENDING
from chalicelib.services.scheduling.times import check_window, iso, parse_instant, resolve_zone, schedule_name

ACTIONS = ("publish", "unpublish")


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
    check_group(settings)
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
            undo_schedule_write(name, previous, settings)
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
            undo_schedule_write(restore.name, restore, settings)
        raise
    logger.info("Cancelled video schedule", extra={"video_id": video_id, "action": action})


def _is_integrity_error(exc: Exception) -> bool:
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


def _locked_video(session: Any, video_id: int) -> Video:
    video = videos_repo.lock(session, video_id)
    if video is None:
        raise NotFound("Video not found")
    return video


def upcoming(limit: int) -> list[tuple[ScheduleEntry, str | None]]:
    with session_scope() as session:
        return schedules_repo.upcoming(session, limit)


def recently_failed(days: int, limit: int) -> list[tuple[ScheduleEntry, str | None]]:
    """Scheduled actions that failed in the last ``days`` days, newest first, with their video's title."""
    since = datetime.now(UTC) - timedelta(days=days)
    with session_scope() as session:
        return schedules_repo.failed_since(session, since, limit)


def history(video_id: int) -> list[ScheduleEntry]:
    with session_scope() as session:
        if videos_repo.get(session, video_id) is None:
            raise NotFound("Video not found")
        return schedules_repo.history_for_video(session, video_id)
