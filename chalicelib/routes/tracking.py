"""``/api/track/*``: the public tracking endpoints the video player calls.

Optional auth (a valid token attributes the view to its user), CORS open to the
configured frontend origins, and ``text/plain`` bodies accepted everywhere because
``navigator.sendBeacon`` sends JSON that way.
"""

from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from chalicelib import errors
from chalicelib.routes.http import (
    BEACON_CONTENT_TYPES,
    MAX_DB_INT,
    RequestContext,
    api_route,
    validation_error,
)
from chalicelib.services import tracking as tracking_service

bp = Blueprint(__name__)

MAX_BATCH_ITEMS = 500
MAX_BATCH_BYTES = 256 * 1024
# Positions and watch times beyond these are not from a real player (videos are at most 10 days long).
MAX_POSITION_SECONDS = 10 * 24 * 3600 + 1
MAX_WATCH_TIME_SECONDS = 30 * 24 * 3600


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, allow_inf_nan=False)


class ViewBody(_Body):
    video_id: StrictInt = Field(gt=0, le=MAX_DB_INT, alias="videoId")
    referer: str | None = Field(default=None, max_length=tracking_service.REFERER_MAX_LENGTH)


class EventBody(_Body):
    video_id: StrictInt = Field(gt=0, le=MAX_DB_INT, alias="videoId")
    view_id: StrictInt | None = Field(default=None, gt=0, le=MAX_DB_INT, alias="viewId")
    view_token: str | None = Field(default=None, max_length=64, alias="viewToken")
    event_type: Literal["play", "pause", "seek", "complete"] = Field(alias="eventType")
    timestamp: StrictFloat = Field(ge=0, le=MAX_POSITION_SECONDS)


class HeartbeatBody(_Body):
    view_id: StrictInt = Field(gt=0, le=MAX_DB_INT, alias="viewId")
    view_token: str | None = Field(default=None, max_length=64, alias="viewToken")
    watch_time_seconds: StrictFloat = Field(ge=0, le=MAX_WATCH_TIME_SECONDS, alias="watchTimeSeconds")


def _caller(ctx: RequestContext) -> tracking_service.Caller:
    return tracking_service.Caller(
        ip=ctx.client_ip, user_id=ctx.user_id, is_admin=ctx.is_admin, user_agent=ctx.user_agent or None
    )


@api_route(bp, "/track/view", ["POST"], auth="optional", content_types=BEACON_CONTENT_TYPES)
def track_view(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.json(ViewBody)
    view_id, token = tracking_service.record_view(_caller(ctx), body.video_id, body.referer)
    return {"viewId": view_id, "viewToken": token}


@api_route(bp, "/track/event", ["POST"], auth="optional", content_types=BEACON_CONTENT_TYPES)
def track_event(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.json(EventBody)
    tracking_service.record_event(
        _caller(ctx), body.video_id, body.view_id, body.view_token, body.event_type, body.timestamp
    )
    return {"success": True}


@api_route(bp, "/track/heartbeat", ["POST"], auth="optional", content_types=BEACON_CONTENT_TYPES)
def track_heartbeat(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.json(HeartbeatBody)
    tracking_service.record_heartbeat(_caller(ctx), body.view_id, body.view_token, body.watch_time_seconds)
    return {"success": True}


@api_route(bp, "/track/batch", ["POST"], auth="optional", content_types=BEACON_CONTENT_TYPES)
def track_batch(ctx: RequestContext) -> dict[str, Any]:
    """Up to 500 events and heartbeats in one request and one database round trip."""
    payload = ctx.json_payload(max_bytes=MAX_BATCH_BYTES)
    items = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise errors.InvalidInput('Request body must be {"events": [...]}')
    if len(items) > MAX_BATCH_ITEMS:
        raise errors.PayloadTooLarge(f"A batch holds at most {MAX_BATCH_ITEMS} items, got {len(items)}")
    events, heartbeats, rejected = _parse_batch(items)
    result = tracking_service.record_batch(_caller(ctx), events, heartbeats, rejected, total=len(items))
    return {
        "accepted": result.accepted,
        "rejected": [{"index": index, "error": error} for index, error in result.rejected],
    }


def _parse_batch(
    items: list[Any],
) -> tuple[list[tracking_service.BatchEvent], list[tracking_service.BatchHeartbeat], list[tuple[int, str]]]:
    """Validate each item on its own: a bad item is rejected, the others go on."""
    events: list[tracking_service.BatchEvent] = []
    heartbeats: list[tracking_service.BatchHeartbeat] = []
    rejected: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        kind = item.get("kind") if isinstance(item, dict) else None
        try:
            if kind == "event":
                event = EventBody.model_validate(item)
                events.append(
                    tracking_service.BatchEvent(
                        index, event.video_id, event.view_id, event.view_token, event.event_type, event.timestamp
                    )
                )
            elif kind == "heartbeat":
                beat = HeartbeatBody.model_validate(item)
                heartbeats.append(
                    tracking_service.BatchHeartbeat(index, beat.view_id, beat.view_token, beat.watch_time_seconds)
                )
            else:
                rejected.append((index, 'kind must be "event" or "heartbeat"'))
        except ValidationError as exc:
            rejected.append((index, validation_error(exc).message))
    return events, heartbeats, rejected
