"""Queries on ``video_schedule_history``.

A row is created ``pending`` when an admin schedules an action and ends as
``completed``, ``skipped`` (nothing to do when it fired), ``failed`` (the handler
raised; still retryable while the video's pending instant equals the row's) or
``cancelled`` (cancelled or replaced by a newer schedule). At most one row per
video and action is ``pending`` (a partial unique index enforces it).

Lists return :class:`~chalicelib.domain.schedule.ScheduleEntry`; the rows a
service changes in its own transaction (``get``, ``get_outstanding``, ``add``)
are the ORM rows.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from chalicelib.db.models import User, Video, VideoScheduleHistory
from chalicelib.domain.schedule import ScheduleEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PENDING = "pending"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
SKIPPED = "skipped"
STATUSES = (PENDING, COMPLETED, FAILED, CANCELLED, SKIPPED)
# Rows the handler may still act on: pending, or failed and awaiting a retry.
OUTSTANDING = (PENDING, FAILED)
ERROR_MAX_CHARS = 2000
_FIELDS = tuple(field.name for field in fields(ScheduleEntry))


def entry_of(row: VideoScheduleHistory) -> ScheduleEntry:
    return ScheduleEntry(**{name: getattr(row, name) for name in _FIELDS})


def count_pending(session: Session) -> int:
    statement = select(func.count()).select_from(VideoScheduleHistory).where(VideoScheduleHistory.status == PENDING)
    return int(session.scalar(statement) or 0)


def count_overdue(session: Session, before: datetime) -> int:
    """Pending rows whose instant is already behind ``before``: a schedule that did not fire."""
    statement = (
        select(func.count())
        .select_from(VideoScheduleHistory)
        .where(VideoScheduleHistory.status == PENDING, VideoScheduleHistory.scheduled_for < before)
    )
    return int(session.scalar(statement) or 0)


def count_failed_since(session: Session, since: datetime) -> int:
    statement = (
        select(func.count())
        .select_from(VideoScheduleHistory)
        .where(VideoScheduleHistory.status == FAILED, VideoScheduleHistory.scheduled_for >= since)
    )
    return int(session.scalar(statement) or 0)


def user_exists(session: Session, user_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User).where(User.id == user_id)))


def get(session: Session, history_id: int, *, for_update: bool = False) -> VideoScheduleHistory | None:
    statement = select(VideoScheduleHistory).where(VideoScheduleHistory.id == history_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def get_outstanding(
    session: Session, video_id: int, action: str, pending_at: datetime | None
) -> VideoScheduleHistory | None:
    """The row behind the video's pending instant: pending, or failed and still awaiting a retry."""
    conditions = [VideoScheduleHistory.video_id == video_id, VideoScheduleHistory.action == action]
    pending = select(VideoScheduleHistory).where(*conditions, VideoScheduleHistory.status == PENDING)
    row = session.scalars(pending.with_for_update()).one_or_none()
    if row is not None or pending_at is None:
        return row
    failed = (
        select(VideoScheduleHistory)
        .where(*conditions, VideoScheduleHistory.status == FAILED, VideoScheduleHistory.scheduled_for == pending_at)
        .order_by(VideoScheduleHistory.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(failed).one_or_none()


def add(session: Session, row: VideoScheduleHistory) -> VideoScheduleHistory:
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def record_failure(session: Session, history_id: int, error: str) -> bool:
    """Mark a row failed unless it already reached a final state; returns whether it changed."""
    result = session.execute(
        update(VideoScheduleHistory)
        .where(VideoScheduleHistory.id == history_id, VideoScheduleHistory.status.in_(OUTSTANDING))
        .values(status=FAILED, error=error[:ERROR_MAX_CHARS])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def upcoming(session: Session, limit: int) -> list[tuple[ScheduleEntry, str | None]]:
    """Pending rows with their video's title, soonest first."""
    statement = (
        select(VideoScheduleHistory, Video.title)
        .join(Video, Video.id == VideoScheduleHistory.video_id)
        .where(VideoScheduleHistory.status == PENDING)
        .order_by(VideoScheduleHistory.scheduled_for, VideoScheduleHistory.id)
        .limit(limit)
    )
    return [(entry_of(row), title) for row, title in session.execute(statement).all()]


def failed_since(session: Session, since: datetime, limit: int) -> list[tuple[ScheduleEntry, str | None]]:
    """Failed rows scheduled since ``since`` with their video's title, newest first (the dashboard)."""
    statement = (
        select(VideoScheduleHistory, Video.title)
        .join(Video, Video.id == VideoScheduleHistory.video_id)
        .where(VideoScheduleHistory.status == FAILED, VideoScheduleHistory.scheduled_for >= since)
        .order_by(VideoScheduleHistory.scheduled_for.desc(), VideoScheduleHistory.id.desc())
        .limit(limit)
    )
    return [(entry_of(row), title) for row, title in session.execute(statement).all()]


def history_for_video(session: Session, video_id: int, limit: int = 500) -> list[ScheduleEntry]:
    statement = (
        select(VideoScheduleHistory)
        .where(VideoScheduleHistory.video_id == video_id)
        .order_by(VideoScheduleHistory.created_at.desc(), VideoScheduleHistory.id.desc())
        .limit(limit)
    )
    return [entry_of(row) for row in session.scalars(statement)]


def all_pending(session: Session) -> list[ScheduleEntry]:
    statement = select(VideoScheduleHistory).where(VideoScheduleHistory.status == PENDING)
    return [entry_of(row) for row in session.scalars(statement.order_by(VideoScheduleHistory.scheduled_for))]


def abandon_stale_failures(session: Session, before: datetime) -> int:
    """Clear the video's pending instant for failed rows no retry will come for any more.

    The row stays ``failed`` (its error is the record); the video just stops
    showing an instant that will never happen.
    """
    total = 0
    for action, column in (("publish", Video.scheduled_publish_at), ("unpublish", Video.scheduled_unpublish_at)):
        # UPDATE videos ... FROM video_schedule_history: one statement per action.
        result = session.execute(
            update(Video)
            .where(
                VideoScheduleHistory.video_id == Video.id,
                VideoScheduleHistory.status == FAILED,
                VideoScheduleHistory.action == action,
                VideoScheduleHistory.scheduled_for < before,
                VideoScheduleHistory.scheduled_for == column,
            )
            .values({column: None})
            .execution_options(synchronize_session=False)
        )
        total += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return total


def recent(session: Session, statuses: tuple[str, ...], since: datetime, limit: int) -> list[ScheduleEntry]:
    """Rows in ``statuses`` scheduled since ``since``, newest first (``make schedules``)."""
    statement = (
        select(VideoScheduleHistory)
        .where(VideoScheduleHistory.status.in_(statuses), VideoScheduleHistory.scheduled_for >= since)
        .order_by(VideoScheduleHistory.scheduled_for.desc(), VideoScheduleHistory.id.desc())
        .limit(limit)
    )
    return [entry_of(row) for row in session.scalars(statement)]
