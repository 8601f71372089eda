"""The embed page of a video (its HTML, with the player's configuration and a policy that lets it
load only this API's code and the video's own media) and its oEmbed answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from chalicelib.domain.video import Video
from chalicelib.presenters.videos import video_fields
from chalicelib.schemas.player import OEmbedVideo
from chalicelib.services import player
from chalicelib.web import static

PROVIDER_NAME = "Media API"
HLS_SCRIPT = "hls.js"
# The page is embedded anywhere (no frame-ancestors); it runs only this API's files.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: {images}; "
    "media-src {media} blob:; connect-src 'self' {media}; worker-src blob:; base-uri 'none'; form-action 'none'"
)
# A published video's page may be cached briefly (its media URLs are signed for hours); a preview's never.
PUBLISHED_CACHE = "public, max-age=60"
PREVIEW_CACHE = "private, no-store"


@dataclass(frozen=True)
class Page:
    html: str
    headers: dict[str, str]


def embed_page(video: Video, *, preview: bool) -> Page:
    fields = video_fields(video)
    title = str(video.title or video.filename)
    config = {
        "videoId": video.id,
        "title": title,
        "streamUrl": fields["stream_url"],
        "playbackUrl": fields.get("playback_url"),
        "processingStatus": fields.get("processing_status"),
        "hlsScript": f"../{static.asset_url(HLS_SCRIPT)}" if HLS_SCRIPT in static.ASSETS else None,
    }
    values = {
        "title": escape(title),
        "poster": escape(str(fields["thumbnail_url"] or "")),
        "oembed": escape(player.oembed_url(video.id)),
        "config": _script_json(config),
    }
    html = static.page("embed", "../").text
    for name, value in values.items():
        html = html.replace("{{" + name + "}}", value)
    media = _origins(fields["stream_url"], fields.get("playback_url"))
    headers = {
        **static.PAGE_HEADERS,
        "Content-Security-Policy": _POLICY.format(images=_origins(fields["thumbnail_url"]) or "'self'", media=media),
        "Cache-Control": PREVIEW_CACHE if preview else PUBLISHED_CACHE,
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    return Page(html, headers)


def oembed_answer(video: Video, max_width: int | None, max_height: int | None) -> OEmbedVideo:
    fields = video_fields(video)
    size = player.embed_size(video, max_width, max_height)
    thumbnail = player.thumbnail_size(video) if fields["thumbnail_url"] else None
    title = str(video.title or video.filename)
    iframe = (
        f'<iframe src="{escape(player.embed_url(video.id))}" width="{size.width}" height="{size.height}" '
        f'title="{escape(title)}" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" '
        "allowfullscreen></iframe>"
    )
    return OEmbedVideo(
        provider_name=PROVIDER_NAME,
        provider_url=player.provider_url(),
        title=title,
        html=iframe,
        width=size.width,
        height=size.height,
        thumbnail_url=str(fields["thumbnail_url"]) if thumbnail else None,
        thumbnail_width=thumbnail.width if thumbnail else None,
        thumbnail_height=thumbnail.height if thumbnail else None,
        cache_age=player.OEMBED_CACHE_SECONDS,
    )


def oembed_xml(answer: OEmbedVideo) -> str:
    """oEmbed's XML form: one element per field, in the order of the JSON, absent when null."""
    fields = "".join(
        f"<{name}>{escape(str(value), quote=False)}</{name}>"
        for name, value in answer.model_dump(mode="json").items()
        if value is not None
    )
    return f'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<oembed>{fields}</oembed>\n'


def _origins(*urls: object) -> str:
    """The distinct ``scheme://host[:port]`` of the given URLs, space-separated, for a policy."""
    found: list[str] = []
    for url in urls:
        if isinstance(url, str) and url:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if parts.scheme in ("http", "https") and origin not in found:
                found.append(origin)
    return " ".join(found)


def _script_json(value: object) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left to end it."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
