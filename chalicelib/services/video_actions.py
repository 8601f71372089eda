"""Quick actions on a video: duplicate it, and open a preview link."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from chalicelib.adapters import media_storage
from chalicelib.db.engine import session_scope
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.video import Video
from chalicelib.observability import logger
from chalicelib.repositories import videos as videos_repo
from chalicelib.services import transcoding
from chalicelib.services.preview import decode_preview_token

COPY_SUFFIX = " (Copy)"


def duplicate_video(video_id: int) -> Video:
    """A new unpublished video with the same metadata and its own copy of the media object.

    The row is inserted first and the S3 copy made inside the same transaction,
    so the ingest notification the copy triggers finds (or waits for) that row
    and only refreshes it; if the copy fails the row is rolled back, and if the
    commit fails the copied object is removed. The copy gets its own ladder, made
    again from its own original (it is ``processing`` until then).
    """
    copied = False
    try:
        with session_scope() as session:
            source = videos_repo.get(session, video_id)
            if source is None:
                raise NotFound("Video not found")
            target_key = media_storage.new_object_key(_basename(source.filename))
            duplicate = videos_repo.add(session, _copy_of(source, target_key))
            try:
                media_storage.copy(source.filename, target_key)
            except NotFound as exc:
                raise Conflict("The video's media object is missing from the bucket; it cannot be duplicated") from exc
            copied = True
    except Exception:
        if copied:  # the commit failed after the copy: do not leave an orphan object behind
            media_storage.delete(target_key)
        raise
    logger.info("Video duplicated", extra={"source_id": video_id, "video_id": duplicate.id})
    transcoding.request_ladder(duplicate.id)
    return duplicate


def _basename(filename: str) -> str:
    name = PurePosixPath(filename).name
    try:
        return media_storage.safe_basename(name)
    except InvalidInput:
        return "video"


def _copy_of(source: Video, key: str) -> dict[str, Any]:
    title = source.title or media_storage.display_title(source.filename)
    return {
        "filename": key,
        "title": title + COPY_SUFFIX,
        "producer": source.producer,
        "creator": source.creator,
        "thumbnail_url": source.thumbnail_url,
        "duration": source.duration,
        "file_size": source.file_size,
        "width": source.width,
        "height": source.height,
        "orientation": source.orientation,
        "quality": source.quality,
        "has_audio": source.has_audio,
        "is_published": False,
    }


def preview(token: str) -> Video:
    """The video a preview token names, published or not (its answer carries a signed stream URL)."""
    video_id = decode_preview_token(token)
    with session_scope() as session:
        video = videos_repo.get(session, video_id)
    if video is None:
        raise NotFound("The previewed video no longer exists")
    return video
