"""Quick actions on a video: duplicate, and expiring preview links.

``POST /api/videos/{id}/reset-analytics`` lives with the analytics Blueprint.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.adapters import url_signing
from chalicelib.domain.video import VideoFigures
from chalicelib.presenters.videos import admin_video, video_fields
from chalicelib.schemas.actions import PreviewLink, PreviewVideo
from chalicelib.schemas.videos import AdminVideo
from chalicelib.services import video_actions, videos
from chalicelib.services.preview import issue_preview_link
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/videos/{video_id}/duplicate",
    "POST",
    summary="Duplicate a video",
    auth="admin",
    response=AdminVideo,
    status=201,
    extra_statuses=(409,),
)
def duplicate_video(ctx: RequestContext, video_id: int) -> AdminVideo:
    """A new unpublished copy titled "<title> (Copy)", with its own copy of the media object."""
    return admin_video(video_actions.duplicate_video(video_id), VideoFigures())  # a copy starts with no views


@api_route(bp, "/videos/{video_id}/preview-link", summary="Create a preview link", auth="admin", response=PreviewLink)
def preview_link(ctx: RequestContext, video_id: int) -> PreviewLink:
    """A link that shows the video, published or not, to anyone holding it, for VIDEO_PREVIEW_LINK_EXPIRY_HOURS."""
    video = videos.get_video(video_id, is_admin=True)
    link = issue_preview_link(video.id)
    return PreviewLink(preview_url=link.url, expiry_hours=link.expiry_hours)


@api_route(
    bp,
    "/videos/preview/{token}",
    summary="Open a preview link",
    response=PreviewVideo,
    extra_statuses=(401, 410),
)
def preview_video(ctx: RequestContext, token: str) -> Reply:
    """Public: the token is the credential. Never cached, since the stream URL expires."""
    fields = video_fields(video_actions.preview(token))
    expires_in = url_signing.signed_url(str(fields["filename"])).expires_in()
    body = PreviewVideo.model_validate({**fields, "stream_url_expires_in": expires_in})
    return Reply(body, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
