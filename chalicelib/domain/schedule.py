"""A scheduled publish or unpublish as a video's schedule history records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled action: ``pending`` until it fires, then ``completed``, ``skipped`` or ``failed``;
    ``cancelled`` when an admin cancels or replaces it."""

    id: int
    video_id: int
    action: str  # publish or unpublish
    scheduled_for: datetime
    timezone: str  # the IANA zone the admin scheduled in
    status: str
    scheduled_by_user_id: int
    executed_at: datetime | None
    error: str | None
    created_at: datetime
