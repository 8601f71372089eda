"""``/api/videos``: the video library (the seed's existing video routes)."""

from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from chalicelib.repositories.videos import VideoFilters
from chalicelib.routes.http import MAX_DB_INT, Reply, RequestContext, api_route, model_from_payload, parse_id
from chalicelib.routes.presenters import video_json
from chalicelib.services import videos as video_service

bp = Blueprint(__name__)

Text = Field(default=None, max_length=500)
Url = Field(default=None, max_length=2048)


class CreateVideoBody(BaseModel):
    """Full metadata; a later ingest path fills it from ffprobe when only ``filename`` is sent."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    filename: str = Field(min_length=1, max_length=1024)
    title: str | None = Text
    producer: str | None = Text
    creator: str | None = Text
    thumbnail_url: str | None = Field(default=None, max_length=2048, alias="thumbnailUrl")
    duration: int = Field(ge=0, le=10 * 24 * 3600)
    file_size: int = Field(ge=0, le=2**53, alias="fileSize")
    width: int = Field(gt=0, le=16384)
    height: int = Field(gt=0, le=16384)
    has_audio: StrictBool = Field(default=True, alias="hasAudio")
    orientation: Literal["H", "V"] | None = None
    quality: Literal["SD", "HD", "FHD", "UHD"] | None = None


class IngestVideoBody(BaseModel):
    """``{filename}`` alone: the key of an object already in the media bucket."""

    filename: str = Field(min_length=1, max_length=1024)


class UpdateVideoBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    title: str | None = Text
    producer: str | None = Text
    creator: str | None = Text
    thumbnail_url: str | None = Field(default=None, max_length=2048, alias="thumbnailUrl")
    is_published: StrictBool | None = Field(default=None, alias="isPublished")


@api_route(bp, "/videos", auth="optional")
def list_videos(ctx: RequestContext) -> dict[str, Any]:
    filters = VideoFilters(
        published=ctx.query_bool("published"),
        orientation=ctx.query_choice("orientation", video_service.ORIENTATIONS),
        quality=ctx.query_choice("quality", video_service.QUALITIES),
        search=(ctx.query("search") or "").strip()[:200] or None,
        limit=ctx.query_int("limit", 20, minimum=1, maximum=100),
        offset=ctx.query_int("offset", 0, minimum=0, maximum=MAX_DB_INT),
    )
    videos, total = video_service.list_videos(filters, is_admin=ctx.is_admin)
    return {
        "videos": [video_json(video) for video in videos],
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


@api_route(bp, "/videos/{video_id}", auth="optional")
def get_video(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    return video_json(video_service.get_video(parse_id(video_id), is_admin=ctx.is_admin))


@api_route(bp, "/videos", ["POST"], auth="admin")
def create_video(ctx: RequestContext) -> Reply:
    payload = ctx.json_payload()
    if isinstance(payload, dict) and set(payload) == {"filename"}:
        # Only a key in the media bucket: probe it now (201 created, 200 already there and re-probed).
        from chalicelib.services import ingest

        result = ingest.ingest_key(model_from_payload(IngestVideoBody, payload).filename)
        return Reply(video_json(result.video), status=201 if result.created else 200)
    body = model_from_payload(CreateVideoBody, payload)
    video = video_service.create_video(video_service.NewVideo(**body.model_dump()))
    return Reply(video_json(video), status=201)


@api_route(bp, "/videos/{video_id}", ["PATCH"], auth="admin")
def update_video(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    body = ctx.json(UpdateVideoBody)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("is_published", True) is None:
        changes.pop("is_published")
    video = video_service.update_video(parse_id(video_id), changes)
    return video_json(video)


@api_route(bp, "/videos/{video_id}", ["DELETE"], auth="admin")
def delete_video(ctx: RequestContext, video_id: str) -> Reply:
    video_service.delete_video(parse_id(video_id))
    return Reply(status=204)
