"""Media ingest: presigned uploads into the bucket, and probing objects into ``videos`` rows.

Two paths share :func:`ingest_object`: the asynchronous one (S3 ObjectCreated →
SQS → ``ingest_uploaded_video``) and the synchronous ``POST /api/videos`` with
only ``{filename}``. Both are idempotent on the object key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.adapters import ffprobe, media_storage
from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.db.models import IngestFailure
from chalicelib.domain.errors import Gone, PayloadTooLarge, Unprocessable
from chalicelib.domain.video import Video
from chalicelib.observability import logger, metrics
from chalicelib.repositories import ingest as ingest_repo
from chalicelib.repositories import tombstones as tombstones_repo
from chalicelib.services import thumbnails, transcoding

UPLOAD_URL_TTL_SECONDS = 3600
# What an admin may give beside the filename when asking for a probe.
DESCRIPTIVE_FIELDS = ("title", "producer", "creator", "thumbnail_url")
# MIME type grammar (RFC 6838 restricted-name), video types only.
_VIDEO_CONTENT_TYPE = re.compile(r"^video/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


@dataclass(frozen=True)
class UploadTicket:
    upload_url: str
    key: str
    expires_in: int
    content_type: str

    def as_json(self) -> dict[str, Any]:
        return {
            "uploadUrl": self.upload_url,
            "key": self.key,
            "expiresIn": self.expires_in,
            "method": "PUT",
            "headers": {"Content-Type": self.content_type},
        }


@dataclass(frozen=True)
class IngestResult:
    video: Video
    created: bool


def request_upload(filename: str, content_type: str, file_size: int) -> UploadTicket:
    """A presigned PUT for a new, unique key; video types only, at most ``VIDEO_UPLOAD_MAX_BYTES``."""
    content_type = content_type.strip().lower()
    if not _VIDEO_CONTENT_TYPE.match(content_type):
        raise Unprocessable(f"contentType must be a video type (video/...), got '{content_type[:100]}'")
    limit = get_settings().upload_max_bytes
    if file_size > limit:
        raise PayloadTooLarge(f"fileSize {file_size} is larger than the upload limit of {limit} bytes")
    key = media_storage.new_object_key(filename)
    url = media_storage.presigned_put(key, content_type, file_size, UPLOAD_URL_TTL_SECONDS)
    return UploadTicket(upload_url=url, key=key, expires_in=UPLOAD_URL_TTL_SECONDS, content_type=content_type)


def ingest_key(key: str, descriptive: Mapping[str, str | None] | None = None) -> IngestResult:
    """Synchronous ingest of an object an admin names (``POST /api/videos`` with ``filename``),
    storing the descriptive fields (title, producer, creator, thumbnail_url) the admin gave."""
    return ingest_object(media_storage.validate_existing_key(key), descriptive)


def ingest_object(key: str, descriptive: Mapping[str, str | None] | None = None) -> IngestResult:
    """Probe ``key`` in the media bucket, create or refresh its row, and queue its thumbnail.

    404 when the object is missing; 422 when it is empty, too large or not a video: no row
    is written, the refusal is recorded (``GET /api/videos/ingest-failures``) and an upload's
    object deleted, so the bucket keeps no junk. 503 when S3, ffprobe or the thumbnail queue
    cannot be used (a retry re-probes harmlessly).
    """
    given = {name: value for name, value in (descriptive or {}).items() if name in DESCRIPTIVE_FIELDS}
    if given.get("thumbnail_url"):
        from chalicelib.services.videos import stored_thumbnail_url

        given["thumbnail_url"] = stored_thumbnail_url(given["thumbnail_url"])
    _refuse_deleted(key)
    try:
        metadata, size = _probe(key)
    except Unprocessable as exc:
        record_failure(key, exc.message)
        raise
    values = {
        "filename": key,
        "title": media_storage.display_title(key),
        **given,
        "file_size": size,
        "duration": metadata.duration,
        "width": metadata.width,
        "height": metadata.height,
        "orientation": metadata.orientation,
        "quality": metadata.quality,
        "has_audio": metadata.has_audio,
    }
    with session_scope() as session:
        # Serialised with deleting the video of this key: a deleted video stays deleted.
        tombstones_repo.lock_key(session, key)
        buried = tombstones_repo.is_buried(session, key)
        upserted = None if buried else ingest_repo.upsert_probed(session, values, descriptive=tuple(given))
    if upserted is None:
        _refuse_deleted(key)
        raise Gone(f"The video of '{key}' was deleted")
    video, created = upserted
    _record_ingest(key, created)
    if video.thumbnail_key is None:
        thumbnails.request_thumbnail(video.id)
    if created:
        transcoding.request_ladder(video.id)
    return IngestResult(video=video, created=created)


def _refuse_deleted(key: str) -> None:
    """An object of a deleted video (a late notification of a copy, a retry) is removed, never ingested: 410."""
    with session_scope() as session:
        buried = tombstones_repo.is_buried(session, key)
    if buried:
        media_storage.delete(key)
        logger.info("Object of a deleted video removed, not ingested", extra={"key": key})
        raise Gone(f"The video of '{key}' was deleted")


def _probe(key: str) -> tuple[ffprobe.VideoMetadata, int]:
    settings = get_settings()
    stored = media_storage.head(key)
    if stored.size == 0:
        raise Unprocessable(f"'{key}' is empty, not a video")
    if stored.size > settings.upload_max_bytes:
        raise Unprocessable(f"'{key}' is larger than the limit of {settings.upload_max_bytes} bytes")
    url = media_storage.presigned_get(key, settings.ffprobe_timeout_seconds + 60)
    return ffprobe.probe(url), stored.size


def record_failure(key: str, reason: str) -> None:
    """Remember why an upload was refused, and delete its object (best effort; it is junk).

    Only an upload (a key under ``videos/``) is deleted: a poster frame or any other object an
    admin named is refused and recorded, and stays.
    """
    from aws_lambda_powertools.metrics import MetricUnit

    with session_scope() as session:
        ingest_repo.add_failure(session, key, reason)
    deleted = media_storage.is_upload_key(key)
    if deleted:
        media_storage.delete(key)
    metrics.add_metric(name="IngestRejected", unit=MetricUnit.Count, value=1)
    logger.warning("Upload not ingested", extra={"key": key, "reason": reason, "object_deleted": deleted})


def recent_failures(limit: int) -> list[IngestFailure]:
    with session_scope() as session:
        return ingest_repo.recent_failures(session, limit)


def _record_ingest(key: str, created: bool) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name="VideosIngested" if created else "VideosReprobed", unit=MetricUnit.Count, value=1)
    logger.info("Video ingested", extra={"key": key, "video_created": created})


def object_keys_from_notification(body: str) -> list[tuple[str, str]]:
    """``(bucket, key)`` pairs of the ObjectCreated records in an S3 notification (SQS message body).

    S3 URL-encodes keys in notifications (spaces as ``+``); the test event S3
    sends when the notification is configured has no records and yields none.
    """
    import json

    try:
        payload = json.loads(body)
    except ValueError:
        logger.warning("Ignoring a non-JSON ingest message")
        return []
    records = payload.get("Records") if isinstance(payload, dict) else None
    pairs = []
    for record in records or []:
        if not isinstance(record, dict) or not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        bucket = str((s3.get("bucket") or {}).get("name") or "")
        key = unquote_plus(str((s3.get("object") or {}).get("key") or ""))
        if bucket and key:
            pairs.append((bucket, key))
    return pairs
