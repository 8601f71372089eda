"""The rights of the person: a user's recorded data, and what erasing it did."""

from __future__ import annotations

from pydantic import Field

from chalicelib.schemas.base import Answer
from chalicelib.web.inputs import Instant


class RecordedEvent(Answer):
    event_type: str = Field(description="play, pause, seek or complete.")
    position_seconds: float = Field(description="Where in the video the player was.")
    at: Instant


class ViewQoe(Answer):
    """The player's measurements of this view, as it reported them."""

    startup_time_ms: int | None
    rebuffer_count: int | None
    rebuffer_ms: int | None
    error_code: str | None
    bitrate_kbps: int | None
    height: int | None
    reported_at: Instant | None


class RecordedView(Answer):
    view_id: int
    video_id: int
    video_title: str | None
    started_at: Instant
    last_seen_at: Instant | None
    ended_at: Instant | None
    watch_time_seconds: int
    completed: bool
    last_position_seconds: float | None
    last_position_at: Instant | None
    played_hundredths: list[int] = Field(description="The hundredths of the video (0-99) this view played.")
    referer: str | None = Field(description="The page the player was on: scheme, host and a cleaned path.")
    device_type: str | None
    browser: str | None
    os: str | None
    country: str | None
    visitor_key: str | None = Field(
        description="The anonymous visitor key stored with the view (a keyed hash; no address is stored)."
    )
    visitor_key_legacy: bool = Field(description="true: the key is the module's plain hash of the address (imported).")
    is_team: bool
    consented: bool | None = Field(description="Whether the view carries the user id by consent (null: before it).")
    source: str | None = Field(description="web (a page on an allowed origin) or app (no page named).")
    qoe: ViewQoe
    events: list[RecordedEvent]


class PersonalData(Answer):
    """Everything recorded about one user id."""

    user_id: int
    exported_at: Instant
    views: list[RecordedView]


class Erased(Answer):
    """What erasing a user's data did."""

    user_id: int
    erased_at: Instant
    views_deleted: int = Field(description="Views that carried the user id, deleted.")
    events_deleted: int = Field(description="Those views' player events, deleted.")
    hours_refolded: int = Field(
        description="Folded hours of the analytics recomputed from the rows left, with the days and totals they feed."
    )
    message: str
