"""Media ingest: presigned uploads into the bucket, and probing objects into ``videos`` rows.

Two paths share :func:`ingest_object`: the asynchronous one (S3 ObjectCreated →
SQS → ``ingest_uploaded_video``) and the synchronous ``POST /api/videos`` with
only ``{filename}``. Both are idempotent on the object key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.db.models import Video
from chalicelib.errors import PayloadTooLarge, Unprocessable
from chalicelib.observability import logger, metrics
from chalicelib.repositories import ingest as ingest_repo
from chalicelib.services import ffprobe, media_storage

UPLOAD_URL_TTL_SECONDS = 3600
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


def ingest_key(key: str) -> IngestResult:
    """Synchronous ingest of an object an admin names (``POST /api/videos`` with only ``filename``)."""
    return ingest_object(media_storage.validate_existing_key(key))


def ingest_object(key: str) -> IngestResult:
    """Probe ``key`` in the media bucket and create or refresh its row.

    404 when the object is missing, 422 when it is empty, too large or not a
    video (no row is written), 503 when S3 or ffprobe cannot be used.
    """
    settings = get_settings()
    stored = media_storage.head(key)
    if stored.size == 0:
        raise Unprocessable(f"'{key}' is empty, not a video")
    if stored.size > settings.upload_max_bytes:
        raise Unprocessable(f"'{key}' is larger than the limit of {settings.upload_max_bytes} bytes")
    url = media_storage.presigned_get(key, settings.ffprobe_timeout_seconds + 60)
    metadata = ffprobe.probe(url)
    values = {
        "filename": key,
        "title": media_storage.display_title(key),
        "file_size": stored.size,
        "duration": metadata.duration,
        "width": metadata.width,
        "height": metadata.height,
        "orientation": metadata.orientation,
        "quality": metadata.quality,
        "has_audio": metadata.has_audio,
    }
    with session_scope() as session:
        video, created = ingest_repo.upsert_probed(session, values)
    _record_ingest(key, created)
    return IngestResult(video=video, created=created)


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
