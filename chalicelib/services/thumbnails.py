"""Thumbnails made at ingest: a poster frame per video, stored as JPEG under ``thumbnails/``.

Ingest (either path) asks for one by a message on the thumbnail queue; the
``make_video_thumbnail`` function, which carries ffmpeg in its own layer, makes it.
The thumbnail's key is derived from the video's key, and a video that already has one
is left alone, so a re-delivered message makes no second thumbnail.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from chalicelib.adapters import ffmpeg, media_storage, queues
from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.domain.errors import Unprocessable
from chalicelib.observability import logger, metrics
from chalicelib.repositories import tombstones as tombstones_repo
from chalicelib.repositories import videos as videos_repo

THUMBNAIL_PREFIX = "thumbnails"
# The queue make_video_thumbnail consumes (chalicelib/functions/thumbnails.py).
THUMBNAIL_QUEUE = "thumbnails"
UPLOAD_PREFIX = "videos/"


def thumbnail_key(video_key: str) -> str:
    """``videos/<id>/clip.mp4`` → ``thumbnails/<id>/clip.jpg``: one key per video, however often it is made."""
    path = PurePosixPath(video_key.removeprefix(UPLOAD_PREFIX))
    return f"{THUMBNAIL_PREFIX}/{path.with_suffix('.jpg')}"


def request_thumbnail(video_id: int) -> None:
    """Queue the making of a video's poster frame; 503 when the queue cannot be reached."""
    queues.send_json(get_settings().queue_name(THUMBNAIL_QUEUE), {"videoId": video_id}, what="thumbnail")


def video_ids_in(body: str) -> list[int]:
    """The video id of a thumbnail message (none for anything else, which is dropped)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    video_id = payload.get("videoId") if isinstance(payload, dict) else None
    return [video_id] if isinstance(video_id, int) and not isinstance(video_id, bool) and video_id > 0 else []


def make_thumbnail(video_id: int) -> str | None:
    """Make and store the video's poster frame; returns its key (None when there is nothing to do).

    Raises :class:`ServiceUnavailable` (S3 or ffmpeg unavailable, too slow) so the message is
    delivered again; a video whose frames cannot be decoded is logged and left without one.
    """
    with session_scope() as session:
        video = videos_repo.get(session, video_id)
        if video is None or video.thumbnail_key:
            return video.thumbnail_key if video else None
        filename, duration = video.filename, float(video.duration)
    key = thumbnail_key(filename)
    source = media_storage.presigned_get(filename, get_settings().thumbnail_timeout_seconds + 60)
    try:
        frame = ffmpeg.poster_frame(source, duration)
    except Unprocessable as exc:
        logger.warning("No thumbnail: no frame could be decoded", extra={"video_id": video_id, "reason": str(exc)})
        return None
    media_storage.put(key, frame.jpeg, "image/jpeg")
    with session_scope() as session:
        recorded = videos_repo.set_thumbnail(session, video_id, filename, key)
        deleted = not recorded and tombstones_repo.is_video_buried(session, video_id)
    if deleted:  # deleted while its frame was made: the frame goes too
        media_storage.delete(key)
        return None
    _count("ThumbnailsMade")
    logger.info("Thumbnail made", extra={"video_id": video_id, "key": key, "at_seconds": frame.at_seconds})
    return key


def _count(name: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
