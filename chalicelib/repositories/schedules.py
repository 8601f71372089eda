"""Queries on ``video_schedule_history``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from chalicelib.db.models import VideoScheduleHistory

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PENDING = "pending"


def count_pending(session: Session) -> int:
    statement = select(func.count()).select_from(VideoScheduleHistory).where(VideoScheduleHistory.status == PENDING)
    return int(session.scalar(statement) or 0)
