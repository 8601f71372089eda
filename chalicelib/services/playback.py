"""Signed HLS playback: a ready video's ``playbackUrl`` and the playlists served through it.

``playbackUrl`` is the API's own master playlist URL, signed by the API (an HMAC of the
video id and an expiry, ``VIDEO_PLAYBACK_SECRET``) and handed only to callers allowed to
see the video (the public for published videos, admins, a preview link's holder), like
``streamUrl``. The master playlist names each rung's playlist by a relative URI carrying
the same signature; each rung's playlist names its media by absolute signed URLs
(presigned S3 GETs, or CloudFront signed URLs deployed) valid until the same expiry. So
every playlist and every byte a player (hls.js, Safari's native HLS) fetches is
authorized, and nothing is readable without a signature.

Playlists are read from the database (the transcoder's playlists, stored once with the
ladder), never from S3 per request; a one-file rung costs one cached signature per answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.adapters import url_signing
from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.domain import hls
from chalicelib.domain.errors import NotFound, PermissionDenied
from chalicelib.domain.video import Video
from chalicelib.repositories import ladders as ladders_repo

MASTER = "master"
PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
READY = "ready"


@dataclass(frozen=True)
class PlaybackUrl:
    url: str
    expires_at: datetime


def playback_url(video: Video, *, now: float | None = None) -> PlaybackUrl | None:
    """The signed master playlist URL of a ready video; None until its ladder is ready."""
    if video.processing_status != READY:
        return None
    expires = url_signing.window_expiry(now)
    base = get_settings().media_api_url
    url = f"{base}/api/playback/{video.id}/{MASTER}.m3u8?{_query(video.id, expires)}"
    return PlaybackUrl(url, datetime.fromtimestamp(expires, UTC))


def signature(video_id: int, expires: int) -> str:
    """128 bits of HMAC-SHA-256 over the video and the expiry, URL-safe."""
    key = get_settings().playback_key.encode()
    digest = hmac.new(key, f"playback:{video_id}:{expires}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _query(video_id: int, expires: int) -> str:
    return f"expires={expires}&signature={signature(video_id, expires)}"


def authorize(video_id: int, expires: int, given: str, *, now: float | None = None) -> None:
    """403 unless ``given`` is this video's signature for ``expires`` and ``expires`` is still ahead."""
    if not hmac.compare_digest(given.encode(), signature(video_id, expires).encode()):
        raise PermissionDenied("The playback URL's signature does not match")
    if expires <= (time.time() if now is None else now):
        raise PermissionDenied("The playback URL has expired: ask the API for the video again")


def master_playlist(video_id: int, expires: int, given: str) -> str:
    """The master playlist: each rung with BANDWIDTH, RESOLUTION, CODECS, FRAME-RATE, lowest first."""
    authorize(video_id, expires, given)
    with session_scope() as session:
        variants = ladders_repo.variants(session, video_id)
    if not variants:
        raise NotFound("The video has no playable renditions (deleted, or not ready)")
    query = _query(video_id, expires)
    return hls.master_playlist(
        hls.Variant(f"{v.name}.m3u8?{query}", v.bandwidth, v.average_bandwidth, v.width, v.height, v.codecs,
                    v.frame_rate)
        for v in variants
    )  # fmt: skip


def media_playlist(video_id: int, name: str, expires: int, given: str) -> str:
    """One rung's playlist with every media URI signed until ``expires``."""
    authorize(video_id, expires, given)
    with session_scope() as session:
        found = ladders_repo.rendition(session, video_id, name)
    if found is None:
        raise NotFound(f"The video has no {name} rendition (deleted, or not ready)")
    prefix, playlist = found
    return hls.rewrite_uris(playlist, lambda uri: url_signing.url_until(prefix + uri, expires))
