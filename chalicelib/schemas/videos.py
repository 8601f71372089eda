"""The video library: a video as the API shows it, listing, registering and editing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, StrictBool, StrictInt, Tag

from chalicelib.schemas.base import Answer, Query, RequestBody
from chalicelib.web.inputs import MAX_DB_INT, HttpUrl, Instant, NonBlankText, QueryInt, Text

Orientation = Literal["H", "V"]
Quality = Literal["SD", "HD", "FHD", "UHD"]
ProcessingStatus = Literal["processing", "ready", "failed"]
MAX_DURATION_SECONDS = 10 * 24 * 3600
SEARCH_MAX_CHARS = 200


class PublicVideo(Answer):
    """A video as anyone allowed to see it gets it: descriptive fields, media facts, publication state
    and playback URLs. No analytics: how many watched a video, and for how long, is the library's business."""

    id: int
    filename: str
    title: str | None
    producer: str | None
    creator: str | None
    thumbnail_url: str | None = Field(
        description="An admin-set external image as given, else the poster frame made at ingest (a signed URL)."
    )
    stream_url: str = Field(
        description="A signed URL of the original upload, byte for byte (HTTP Range supported): downloads, and "
        "clients that want one file."
    )
    stream_url_expires_at: Instant = Field(description="When streamUrl and a signed thumbnailUrl stop working.")
    duration: int = Field(description="Seconds, rounded.")
    file_size: int = Field(description="Bytes.")
    width: int
    height: int
    orientation: Orientation
    quality: Quality
    has_audio: bool
    is_published: bool
    scheduled_publish_at: Instant | None
    scheduled_unpublish_at: Instant | None
    created_at: Instant
    updated_at: Instant
    processing_status: ProcessingStatus = Field(
        description="The HLS ladder: processing until it is made (ready), or failed (processingError says why). "
        "Publishing does not wait for it: a published video that is still processing plays streamUrl."
    )
    playback_url: str | None = Field(
        description="The signed HLS master playlist (adaptive, H.264/AAC, for hls.js or native HLS) once the "
        "video is ready; null while it is processing or failed."
    )
    playback_url_expires_at: Instant | None = Field(description="When playbackUrl and every URL it leads to expire.")


class AdminVideo(PublicVideo):
    """A video as an admin gets it: the public answer, why its ladder failed, and its analytics figures."""

    processing_error: str | None = Field(description="Why the ladder could not be made, and what to do; else null.")
    unique_viewers: int = Field(
        description="All-time figures (team views left out), counted as the video's analytics report counts "
        "them, from the moment each view is stored; the three below likewise."
    )
    total_watch_time_seconds: int
    average_watch_time_seconds: float
    completion_rate: float = Field(description="Percent of views completed, 0-100.")


AnyVideo = AdminVideo | PublicVideo
"""The answer of a route open to anyone: with the figures for an admin token, without them otherwise."""


class PublicVideoPage(Answer):
    videos: list[PublicVideo]
    total: int = Field(description="Videos matching the filters, over all pages.")
    limit: int
    offset: int


class AdminVideoPage(Answer):
    videos: list[AdminVideo]
    total: int = Field(description="Videos matching the filters, over all pages.")
    limit: int
    offset: int


AnyVideoPage = AdminVideoPage | PublicVideoPage


def _trim_search(value: Any) -> Any:
    """Search terms are trimmed and cut to 200 characters rather than refused."""
    if isinstance(value, str):
        return value.strip()[:SEARCH_MAX_CHARS] or None
    return value


class VideoListQuery(Query):
    published: bool | None = Field(default=None, description="Admins only; the public always sees published videos.")
    orientation: Orientation | None = None
    quality: Quality | None = None
    search: Annotated[Text | None, BeforeValidator(_trim_search)] = Field(
        default=None, description="Case-insensitive match on title, producer or creator."
    )
    limit: QueryInt = Field(default=20, ge=1, le=100)
    offset: QueryInt = Field(default=0, ge=0, le=MAX_DB_INT)


Title = Annotated[NonBlankText, Field(max_length=500)]
Name = Annotated[Text, Field(max_length=500)]
Filename = Annotated[Text, Field(min_length=1, max_length=1024)]


class DescriptiveFields(RequestBody):
    title: Title | None = None
    producer: Name | None = None
    creator: Name | None = None
    thumbnail_url: HttpUrl | None = Field(
        default=None, alias="thumbnailUrl", description="An external poster image, kept as given."
    )


class RegisterVideoBody(DescriptiveFields):
    """A video described in full by the caller (no probing)."""

    filename: Filename
    duration: StrictInt = Field(ge=0, le=MAX_DURATION_SECONDS)
    file_size: StrictInt = Field(ge=0, le=2**53, alias="fileSize")
    width: StrictInt = Field(gt=0, le=16384)
    height: StrictInt = Field(gt=0, le=16384)
    has_audio: StrictBool = Field(default=True, alias="hasAudio")
    orientation: Orientation | None = None
    quality: Quality | None = None


class ProbeVideoBody(DescriptiveFields):
    """The key of an object already in the media bucket: probed with ffprobe now."""

    filename: Filename


_METADATA_FIELDS = ("duration", "fileSize", "width", "height", "hasAudio", "orientation", "quality")


def _create_kind(payload: Any) -> str:
    if isinstance(payload, dict) and any(name in payload for name in _METADATA_FIELDS):
        return "metadata"
    return "probe"


CreateVideoBody = Annotated[
    Annotated[RegisterVideoBody, Tag("metadata")] | Annotated[ProbeVideoBody, Tag("probe")],
    Discriminator(_create_kind),
]
"""``POST /api/videos``: full metadata registers as given; ``filename`` alone (with optional
descriptive fields) probes the object in the bucket."""


class UpdateVideoBody(RequestBody):
    title: Title | None = None
    producer: Name | None = None
    creator: Name | None = None
    thumbnail_url: HttpUrl | None = Field(default=None, alias="thumbnailUrl")
    is_published: StrictBool | None = Field(default=None, alias="isPublished")
