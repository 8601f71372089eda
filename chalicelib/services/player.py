"""The player pages' rules: which videos an embed page plays, which URLs are this API's embed
pages, and how big an oEmbed ``<iframe>`` is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.adapters.ffmpeg import MAX_SIDE as THUMBNAIL_MAX_SIDE
from chalicelib.config import get_settings
from chalicelib.domain import errors
from chalicelib.domain.video import Video
from chalicelib.services import videos
from chalicelib.services.preview import decode_preview_token

EMBED_PATH = "/api/embed/"
DEFAULT_EMBED_WIDTH = 640
DEFAULT_ASPECT = (16, 9)
# oEmbed consumers keep an answer this long at most; its thumbnail URL must outlive it.
OEMBED_CACHE_SECONDS = 3600
_EMBED_ID = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True)
class Size:
    width: int
    height: int


def embeddable_video(video_id: int, preview_token: str | None) -> Video:
    """A published video for anyone; an unpublished one only with a preview token for it (an expired
    token is a 410); anything else is a 404."""
    if preview_token is None:
        return videos.get_video(video_id, is_admin=False)
    try:
        previewed = decode_preview_token(preview_token)
    except errors.NotAuthenticated:
        raise errors.NotFound("Video not found") from None
    if previewed != video_id:
        raise errors.NotFound("Video not found")
    return videos.get_video(video_id, is_admin=True)


def provider_url() -> str:
    return get_settings().media_api_url


def embed_url(video_id: int) -> str:
    return f"{get_settings().media_api_url}{EMBED_PATH}{video_id}"


def oembed_url(video_id: int) -> str:
    return f"{get_settings().media_api_url}/api/oembed?url={embed_url(video_id)}&format=json"


def embedded_video_id(url: str) -> int:
    """The video id of one of this API's embed page URLs (``<MEDIA_API_URL>/api/embed/<id>``); 400 otherwise."""
    ours = urlsplit(get_settings().media_api_url)
    try:
        given = urlsplit(url.strip())
        same_site = (given.scheme.lower(), given.hostname, given.port) == (ours.scheme, ours.hostname, ours.port)
    except ValueError:  # an unparsable port or host
        same_site = False
    prefix = ours.path.rstrip("/") + EMBED_PATH
    raw_id = given.path.removeprefix(prefix) if same_site and given.path.startswith(prefix) else ""
    if not _EMBED_ID.fullmatch(raw_id):
        raise errors.InvalidInput(f"url must be one of this API's embed pages: {embed_url(1).removesuffix('1')}<id>")
    return int(raw_id)


def oembed_video(url: str) -> Video:
    """The published video an embed page URL names: 404 for an unknown or unpublished one."""
    return videos.get_video(embedded_video_id(url), is_admin=False)


def embed_size(video: Video, max_width: int | None, max_height: int | None) -> Size:
    """The video's aspect at most 640 px wide, within the consumer's bounds."""
    aspect_width, aspect_height = (video.width, video.height) if video.width and video.height else DEFAULT_ASPECT
    width = min(DEFAULT_EMBED_WIDTH, max_width or DEFAULT_EMBED_WIDTH)
    height = max(1, round(width * aspect_height / aspect_width))
    if max_height is not None and height > max_height:
        height = max_height
        width = max(1, round(height * aspect_width / aspect_height))
    return Size(width, height)


def thumbnail_size(video: Video) -> Size | None:
    """A poster frame's size: the video's, scaled as the thumbnail function scales it."""
    if not (video.width and video.height):
        return None
    scale = min(1.0, THUMBNAIL_MAX_SIDE / max(video.width, video.height))
    return Size(round(video.width * scale), round(video.height * scale))
