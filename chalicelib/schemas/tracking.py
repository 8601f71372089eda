"""Public tracking: what players send (views, events, heartbeats, batches) and what they get back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictFloat, StrictInt
from pydantic_core import PydanticCustomError

from chalicelib.domain.events import EventType
from chalicelib.domain.qoe import PlayerQoe
from chalicelib.schemas.base import Answer, BeaconBody
from chalicelib.web.inputs import MAX_DB_INT, strip_forbidden_chars

MAX_BATCH_ITEMS = 500
REFERER_MAX_CHARS = 2048
# Positions and watch times beyond these are not from a real player (videos are at most 10 days long).
MAX_POSITION_SECONDS = 10 * 24 * 3600 + 1
MAX_WATCH_TIME_SECONDS = 30 * 24 * 3600
VIEW_TOKEN_MAX_CHARS = 64
MAX_STARTUP_MS = 10 * 60 * 1000
MAX_REBUFFERS = 100_000
MAX_BITRATE_KBPS = 1_000_000
MAX_HEIGHT = 10_000
ErrorCode = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _clean_referer(value: Any) -> Any:
    """Referrers are cleaned rather than refused: a player passes on whatever the page had."""
    if isinstance(value, str):
        return strip_forbidden_chars(value)[:REFERER_MAX_CHARS] or None
    return value


Id = Annotated[StrictInt, Field(gt=0, le=MAX_DB_INT)]
ViewToken = Annotated[str, Field(max_length=VIEW_TOKEN_MAX_CHARS)]
Position = Annotated[
    StrictFloat, Field(ge=0, le=MAX_POSITION_SECONDS, description="Seconds into the video (the player's position).")
]


def _check_position(value: float) -> float:
    if not 0 <= value <= MAX_POSITION_SECONDS:
        raise PydanticCustomError("position_range", "must be between 0 and the video's duration + 1 (seconds)")
    return value


HeartbeatPosition = Annotated[
    StrictFloat,
    AfterValidator(_check_position),
    Field(
        json_schema_extra={"minimum": 0, "maximum": MAX_POSITION_SECONDS},
        description="Seconds into the video now, at most its duration + 1 (live viewers, retention); else a 400.",
    ),
]


class ViewBody(BeaconBody):
    video_id: Id = Field(alias="videoId")
    referer: Annotated[str | None, BeforeValidator(_clean_referer)] = Field(
        default=None, description="The page the player is on; only scheme, host and a cleaned path are stored."
    )
    consent: StrictBool = Field(
        default=False,
        description=(
            "true when the viewer agreed to analytics: only then does the view carry the user id of the "
            "access token sent with it (never with Sec-GPC: 1). Without it the view is anonymous."
        ),
    )


class EventBody(BeaconBody):
    video_id: Id = Field(alias="videoId")
    view_id: Id | None = Field(default=None, alias="viewId")
    view_token: ViewToken | None = Field(default=None, alias="viewToken")
    event_type: EventType = Field(alias="eventType")
    timestamp: Position


class QoeBody(BeaconBody):
    """The player's cumulative quality-of-experience measurements for this view so far."""

    startup_time_ms: StrictInt | None = Field(
        default=None, ge=0, le=MAX_STARTUP_MS, alias="startupTimeMs", description="Play requested -> first frame."
    )
    rebuffer_count: StrictInt | None = Field(
        default=None, ge=0, le=MAX_REBUFFERS, alias="rebufferCount", description="Stalls after the first frame."
    )
    rebuffer_ms: StrictInt | None = Field(
        default=None, ge=0, le=MAX_WATCH_TIME_SECONDS * 1000, alias="rebufferMs", description="Time spent stalled."
    )
    error_code: ErrorCode | None = Field(
        default=None, alias="errorCode", description="A fatal playback failure (MEDIA_ERR_DECODE, hls:networkError:…)."
    )
    bitrate_kbps: StrictInt | None = Field(default=None, ge=0, le=MAX_BITRATE_KBPS, alias="bitrateKbps")
    height: StrictInt | None = Field(default=None, ge=0, le=MAX_HEIGHT, description="Rendition height played.")

    def report(self) -> PlayerQoe:
        return PlayerQoe(
            self.startup_time_ms, self.rebuffer_count, self.rebuffer_ms, self.error_code, self.bitrate_kbps, self.height
        )


class HeartbeatBody(BeaconBody):
    view_id: Id = Field(alias="viewId")
    view_token: ViewToken | None = Field(default=None, alias="viewToken")
    watch_time_seconds: StrictFloat = Field(ge=0, le=MAX_WATCH_TIME_SECONDS, alias="watchTimeSeconds")
    position: HeartbeatPosition | None = None
    qoe: QoeBody | None = Field(default=None, description="Quality of experience so far (first value / maximum kept).")
    ended: StrictBool = Field(default=False, description="The viewer left (ended, pagehide): no longer live.")


class BatchEvent(EventBody):
    kind: Literal["event"]


class BatchHeartbeat(HeartbeatBody):
    kind: Literal["heartbeat"]


class BatchBody(BeaconBody):
    """Up to 500 items; each is checked on its own, so one bad item does not reject the others."""

    events: list[Annotated[BatchEvent | BatchHeartbeat, Field(discriminator="kind")]] = Field(
        max_length=MAX_BATCH_ITEMS
    )


class ViewRecorded(Answer):
    view_id: int
    view_token: str = Field(description="Send it with every event and heartbeat of this view.")


class RejectedItem(Answer):
    index: int
    status: int = Field(description="What the item's single route would have answered: 400, 403, 404, 422 or 429.")
    error: str


class BatchRecorded(Answer):
    accepted: int
    rejected: list[RejectedItem]
