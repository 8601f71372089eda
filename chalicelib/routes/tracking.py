"""``/api/track/*``: the public tracking endpoints the video player calls.

Optional auth (a valid token attributes the view to its user), CORS open to the
configured frontend origins, and ``text/plain`` bodies accepted everywhere because
``navigator.sendBeacon`` sends JSON that way.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.domain import errors
from chalicelib.schemas.base import Success
from chalicelib.schemas.tracking import (
    MAX_BATCH_ITEMS,
    BatchBody,
    BatchRecorded,
    EventBody,
    HeartbeatBody,
    RejectedItem,
    ViewBody,
    ViewRecorded,
)
from chalicelib.services import tracking as tracking_service
from chalicelib.web.request import RequestContext, header, validate
from chalicelib.web.responses import Reply, status_of
from chalicelib.web.routing import BEACON_CONTENT_TYPES, api_route

bp = Blueprint(__name__)

MAX_BATCH_BYTES = 256 * 1024
# The viewer's country as the edge (CloudFront, in front of an edge-optimized API) tells it.
VIEWER_COUNTRY_HEADER = "CloudFront-Viewer-Country"
# A browser's Global Privacy Control signal: "1" means the person does not want to be tracked.
GLOBAL_PRIVACY_CONTROL_HEADER = "Sec-GPC"
_PLAYER_STATUSES = (403, 404, 429)


def _caller(ctx: RequestContext) -> tracking_service.Caller:
    """Who sends an event, a heartbeat or a batch, as far as those care: the address their rate is counted
    for, and whether they are the team. Nothing else is read: a beacon's cost is mostly Python."""
    return tracking_service.Caller(ip=ctx.client_ip, is_admin=ctx.is_admin)


def _viewer(ctx: RequestContext) -> tracking_service.Caller:
    """Who starts a view: also what the view records of them (user, device, country, privacy signal, source)."""
    return tracking_service.Caller(
        ip=ctx.client_ip,
        user_id=ctx.user_id,
        is_admin=ctx.is_admin,
        user_agent=ctx.user_agent or None,
        country_header=header(ctx.request, VIEWER_COUNTRY_HEADER) or None,
        global_privacy_control=header(ctx.request, GLOBAL_PRIVACY_CONTROL_HEADER).strip() == "1",
        source=ctx.source,
    )


def _beat(body: HeartbeatBody) -> tracking_service.Beat:
    qoe = body.qoe.report() if body.qoe is not None else None
    return tracking_service.Beat(body.watch_time_seconds, body.position, qoe, body.ended)


@api_route(
    bp,
    "/track/view",
    "POST",
    summary="Record a view",
    auth="optional",
    body=ViewBody,
    response=ViewRecorded,
    content_types=BEACON_CONTENT_TYPES,
    origin_bound=True,
    extra_statuses=(404, 429),
)
def track_view(ctx: RequestContext) -> ViewRecorded:
    """When the player loads a video. 100 per minute per client IP. The view carries the caller's user id
    only with ``"consent": true`` and without ``Sec-GPC: 1``; otherwise it is anonymous."""
    body: ViewBody = ctx.body
    view_id, token = tracking_service.record_view(_viewer(ctx), body.video_id, body.referer, body.consent)
    return ViewRecorded(view_id=view_id, view_token=token)


@api_route(
    bp,
    "/track/event",
    "POST",
    summary="Record a player event",
    auth="optional",
    body=EventBody,
    response=Success,
    content_types=BEACON_CONTENT_TYPES,
    origin_bound=True,
    extra_statuses=_PLAYER_STATUSES,
)
def track_event(ctx: RequestContext) -> Success:
    """play, pause, seek or complete at a position; ``complete`` marks the view completed and ends it.
    100 per minute per IP."""
    body: EventBody = ctx.body
    tracking_service.record_event(
        _caller(ctx), body.video_id, body.view_id, body.view_token, body.event_type, body.timestamp
    )
    return Success()


@api_route(
    bp,
    "/track/heartbeat",
    "POST",
    summary="Update a view's watch time",
    auth="optional",
    body=HeartbeatBody,
    response=Success,
    content_types=BEACON_CONTENT_TYPES,
    origin_bound=True,
    extra_statuses=_PLAYER_STATUSES,
)
def track_heartbeat(ctx: RequestContext) -> Success:
    """Every 10 seconds of playback; watch time only grows, ``qoe`` keeps first values and maxima,
    ``ended`` ends the view (the viewer left). 200 per minute per IP."""
    body: HeartbeatBody = ctx.body
    tracking_service.record_heartbeat(_caller(ctx), body.view_id, body.view_token, _beat(body))
    return Success()


@api_route(
    bp,
    "/track/batch",
    "POST",
    summary="Record events and heartbeats in one request",
    auth="optional",
    body=BatchBody,
    validate_body=False,
    response=BatchRecorded,
    content_types=BEACON_CONTENT_TYPES,
    origin_bound=True,
    extra_statuses=(429,),
)
def track_batch(ctx: RequestContext) -> BatchRecorded | Reply:
    """Up to 500 items in one request and one database round trip; each item is checked on its
    own, so a bad item is listed in ``rejected`` (with the status its single route would have
    answered) and the others are recorded. 20 batches per minute per IP, and each item counts
    against its single route's limit (100 events, 200 heartbeats a minute): items beyond it are
    rejected with 429 and the answer carries ``Retry-After``."""
    payload = ctx.json_payload(max_bytes=MAX_BATCH_BYTES)
    items = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise errors.InvalidInput('Request body must be {"events": [...]}')
    if len(items) > MAX_BATCH_ITEMS:
        raise errors.PayloadTooLarge(f"A batch holds at most {MAX_BATCH_ITEMS} items, got {len(items)}")
    events, heartbeats, rejected = _parse_batch(items)
    result = tracking_service.record_batch(_caller(ctx), events, heartbeats, rejected, total=len(items))
    answer = BatchRecorded(
        accepted=result.accepted,
        rejected=[RejectedItem(index=item.index, status=item.status, error=item.reason) for item in result.rejected],
    )
    if result.retry_after is None:
        return answer
    return Reply(answer, headers={"Retry-After": str(result.retry_after)})


def _parse_batch(
    items: list[Any],
) -> tuple[list[tracking_service.BatchEvent], list[tracking_service.BatchHeartbeat], list[tracking_service.Rejection]]:
    """Validate each item on its own: a bad item is rejected, the others go on."""
    events: list[tracking_service.BatchEvent] = []
    heartbeats: list[tracking_service.BatchHeartbeat] = []
    rejected: list[tracking_service.Rejection] = []
    for index, item in enumerate(items):
        kind = item.get("kind") if isinstance(item, dict) else None
        try:
            if kind == "event":
                event: EventBody = validate(EventBody, item)
                events.append(
                    tracking_service.BatchEvent(
                        index, event.video_id, event.view_id, event.view_token, event.event_type, event.timestamp
                    )
                )
            elif kind == "heartbeat":
                beat: HeartbeatBody = validate(HeartbeatBody, item)
                heartbeats.append(tracking_service.BatchHeartbeat(index, beat.view_id, beat.view_token, _beat(beat)))
            else:
                rejected.append(tracking_service.Rejection(index, 400, 'kind must be "event" or "heartbeat"'))
        except errors.DomainError as exc:
            rejected.append(tracking_service.Rejection(index, status_of(exc), exc.message))
    return events, heartbeats, rejected
