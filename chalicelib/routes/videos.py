"""``/api/videos``: the video library (list, get, register, edit, delete)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.video import VideoFigures, VideoFilters
from chalicelib.presenters.videos import admin_video, public_video, video_answer
from chalicelib.schemas.videos import (
    AdminVideo,
    AdminVideoPage,
    AnyVideo,
    AnyVideoPage,
    CreateVideoBody,
    ProbeVideoBody,
    PublicVideo,
    PublicVideoPage,
    UpdateVideoBody,
    VideoListQuery,
)
from chalicelib.services import videos as video_service
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/videos", summary="List videos", auth="optional", query=VideoListQuery, response=AnyVideoPage)
def list_videos(ctx: RequestContext) -> AdminVideoPage | PublicVideoPage:
    """Newest first. Without an admin token only published videos are listed, without their analytics."""
    params: VideoListQuery = ctx.params
    filters = VideoFilters(
        published=params.published,
        orientation=params.orientation,
        quality=params.quality,
        search=params.search,
        limit=params.limit,
        offset=params.offset,
    )
    found = video_service.list_videos(filters, is_admin=ctx.is_admin)
    page = {"total": found.total, "limit": params.limit, "offset": params.offset}
    if ctx.is_admin:
        figures = found.figures
        return AdminVideoPage(videos=[admin_video(video, figures[video.id]) for video in found.videos], **page)
    return PublicVideoPage(videos=[public_video(video) for video in found.videos], **page)


@api_route(bp, "/videos/{video_id}", summary="Get a video", auth="optional", response=AnyVideo)
def get_video(ctx: RequestContext, video_id: int) -> AdminVideo | PublicVideo:
    """An unpublished video is 404 unless the caller is an admin; only an admin gets its analytics figures."""
    video = video_service.get_video(video_id, is_admin=ctx.is_admin)
    return video_answer(video, video_service.figures_of_one(video) if ctx.is_admin else None)


@api_route(
    bp,
    "/videos",
    "POST",
    summary="Register a video",
    auth="admin",
    body=CreateVideoBody,
    response=AdminVideo,
    status=201,
    other_success=(200,),
    extra_statuses=(404, 409),
)
def create_video(ctx: RequestContext) -> Reply:
    """With full metadata the video is registered as given. With ``filename`` (the key of an object in
    the media bucket) and optional descriptive fields (title, producer, creator, thumbnailUrl), the
    object is probed now and the fields stored: 201 when the row is created, 200 when it already
    existed and was re-probed. A poster frame is made in the background. An object that is not a
    video is 422, recorded in ingest-failures and deleted."""
    if isinstance(ctx.body, ProbeVideoBody):
        from chalicelib.services import ingest

        given = ctx.body.model_dump(exclude_unset=True, exclude={"filename"})
        result = ingest.ingest_key(ctx.body.filename, given)
        video = result.video
        return Reply(admin_video(video, video_service.figures_of_one(video)), status=201 if result.created else 200)
    fields = ctx.body.model_dump()
    video = video_service.create_video(video_service.NewVideo(**fields))
    return Reply(admin_video(video, VideoFigures()), status=201)  # a new video: no views yet


@api_route(
    bp, "/videos/{video_id}", "PATCH", summary="Edit a video", auth="admin", body=UpdateVideoBody, response=AdminVideo
)
def update_video(ctx: RequestContext, video_id: int) -> AdminVideo:
    """Only the fields sent change; ``isPublished: null`` changes nothing."""
    changes = ctx.body.model_dump(exclude_unset=True)
    if changes.get("is_published", True) is None:
        changes.pop("is_published")
    video = video_service.update_video(video_id, changes)
    return admin_video(video, video_service.figures_of_one(video))


@api_route(bp, "/videos/{video_id}", "DELETE", summary="Delete a video", auth="admin", status=204)
def delete_video(ctx: RequestContext, video_id: int) -> Reply:
    """Its views, events, roll-ups and schedule history go with it."""
    video_service.delete_video(video_id)
    return Reply(status=204)
