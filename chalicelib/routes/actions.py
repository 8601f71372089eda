"""Quick actions (the seed's video-actions routes): duplicate and expiring preview links.

``POST /api/videos/{id}/reset-analytics`` and the analytics routes of the same
seed file live with the analytics Blueprint.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.routes.http import Reply, RequestContext, api_route, parse_id
from chalicelib.routes.presenters import video_json
from chalicelib.services import video_actions, videos
from chalicelib.services.preview import issue_preview_link

bp = Blueprint(__name__)


@api_route(bp, "/videos/{video_id}/duplicate", ["POST"], auth="admin")
def duplicate_video(ctx: RequestContext, video_id: str) -> Reply:
    return Reply(video_json(video_actions.duplicate_video(parse_id(video_id))), status=201)


@api_route(bp, "/videos/{video_id}/preview-link", auth="admin")
def preview_link(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    video = videos.get_video(parse_id(video_id), is_admin=True)
    link = issue_preview_link(video.id)
    return {"previewUrl": link.url, "expiryHours": link.expiry_hours}


@api_route(bp, "/videos/preview/{token}")
def preview_video(ctx: RequestContext, token: str) -> Reply:
    """Public: the token is the credential. Never cached, since the stream URL expires."""
    found = video_actions.preview(token)
    body = {**video_json(found.video), "streamUrl": found.stream_url, "streamUrlExpiresIn": found.stream_url_expires_in}
    return Reply(body, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
