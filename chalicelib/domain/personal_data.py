"""What the service holds about one person (a user id), as their export shows it and their erasure removes it.

Views carry a user id only when the viewer consented (or, for views recorded before consent was
asked for, when a token came with them); events belong to views. Roll-ups hold figures, never
a user id or a visitor key, so a person's data is their views and those views' events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class RecordedEvent:
    event_type: str
    position: Decimal
    at: datetime


@dataclass(frozen=True)
class RecordedView:
    """One view with everything stored with it (see ``video_views``)."""

    view_id: int
    video_id: int
    video_title: str | None
    started_at: datetime
    last_seen_at: datetime | None
    ended_at: datetime | None
    watch_time_seconds: int
    completed: bool
    last_position: Decimal | None
    last_position_at: datetime | None
    played: str | None  # 100 bits, one per hundredth of the video
    referer: str | None
    device_type: str | None
    browser: str | None
    os: str | None
    country: str | None
    visitor_key: str | None
    visitor_key_legacy: bool
    is_team: bool
    consented: bool | None
    source: str | None
    startup_time_ms: int | None
    rebuffer_count: int | None
    rebuffer_ms: int | None
    error_code: str | None
    bitrate_kbps: int | None
    height: int | None
    qoe_at: datetime | None
    events: list[RecordedEvent] = field(default_factory=list)

    @property
    def played_hundredths(self) -> list[int]:
        """The hundredths of the video this view played (0-99)."""
        return [index for index, bit in enumerate(self.played or "") if bit == "1"]


@dataclass(frozen=True)
class PersonalData:
    user_id: int
    views: list[RecordedView]
    exported_at: datetime


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the rows removed and the roll-ups recomputed without them."""

    user_id: int
    views_deleted: int
    events_deleted: int
    hours_refolded: int
    erased_at: datetime
