"""The media bucket: object keys, presigned URLs and server-side copies.

Videos never pass through a Lambda: browsers upload with a presigned PUT,
ffprobe and players read with a presigned GET, and a duplicate is an S3-side
copy. Every S3 failure becomes a domain error here so routes never see botocore.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from chalicelib.domain.errors import InvalidInput, NotFound, ServiceUnavailable
from chalicelib.observability import logger

UPLOAD_PREFIX = "videos"
MAX_NAME_CHARS = 200
# S3 DeleteObjects takes at most 1,000 keys a call.
DELETE_BATCH = 1000
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str


def safe_basename(filename: str) -> str:
    """The last path segment of ``filename`` reduced to ``[A-Za-z0-9._-]``.

    Drops directories, ``..`` and leading dots so a key can never climb out of
    its prefix or become hidden; 400 when nothing usable is left.
    """
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = _UNSAFE_CHARS.sub("-", name).strip("-.")
    stem, dot, ext = name.rpartition(".")
    if dot and len(name) > MAX_NAME_CHARS:
        name = stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext[:16]
    name = name[:MAX_NAME_CHARS]
    if not name or not any(ch.isalnum() for ch in name):
        raise InvalidInput("filename must contain letters or digits")
    return name


def new_object_key(filename: str) -> str:
    """A fresh key ``videos/<32 hex>/<safe name>``: unique, so ``videos.filename`` stays unique."""
    return f"{UPLOAD_PREFIX}/{uuid.uuid4().hex}/{safe_basename(filename)}"


def validate_existing_key(key: str) -> str:
    """A key an admin names for synchronous ingest: relative, no ``..`` segment, no control chars."""
    if not key or len(key) > 1024 or key.startswith("/") or "\\" in key:
        raise InvalidInput("filename must be a relative S3 key")
    if any(part in {"", ".", ".."} for part in key.split("/")):
        raise InvalidInput("filename must not contain empty, '.' or '..' path segments")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidInput("filename must not contain control characters")
    return key


def display_title(key: str) -> str:
    """A human title from a key: the file name without extension, dashes and underscores as spaces."""
    stem = PurePosixPath(key).stem
    return re.sub(r"[-_]+", " ", stem).strip() or stem


@contextmanager
def s3_errors(key: str) -> Iterator[None]:
    """Map botocore failures: missing object → 404, anything else from S3 → 503."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_CODES:
            raise NotFound(f"Media object '{key}' was not found in the bucket") from exc
        logger.warning("S3 request failed", extra={"key": key, "code": code})
        raise ServiceUnavailable("Media storage is unavailable, try again shortly") from exc
    except BotoCoreError as exc:
        logger.warning("S3 unreachable", extra={"key": key, "error": type(exc).__name__})
        raise ServiceUnavailable("Media storage is unavailable, try again shortly") from exc


def head(key: str) -> StoredObject:
    """Size and type of an object; :class:`NotFound` when it does not exist."""
    with s3_errors(key):
        reply = client("s3").head_object(Bucket=get_settings().media_bucket, Key=key)
    return StoredObject(key=key, size=int(reply["ContentLength"]), content_type=str(reply.get("ContentType") or ""))


def presigned_put(key: str, content_type: str, size: int, expires_in: int) -> str:
    """A PUT URL whose signature covers the content type and length the caller declared."""
    with s3_errors(key):
        return str(
            client("s3").generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": get_settings().media_bucket,
                    "Key": key,
                    "ContentType": content_type,
                    "ContentLength": size,
                },
                ExpiresIn=expires_in,
                HttpMethod="PUT",
            )
        )


def presigned_get(key: str, expires_in: int) -> str:
    with s3_errors(key):
        return str(
            client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": get_settings().media_bucket, "Key": key}, ExpiresIn=expires_in
            )
        )


def put(key: str, data: bytes, content_type: str) -> None:
    """Store a small object the service made itself (a thumbnail), private like every other."""
    with s3_errors(key):
        client("s3").put_object(
            Bucket=get_settings().media_bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl="max-age=86400",
        )


def upload_file(key: str, path: str, content_type: str) -> None:
    """Store a local file of any size (an imported library's media): the managed transfer goes multipart."""
    with s3_errors(key):
        client("s3").upload_file(path, get_settings().media_bucket, key, ExtraArgs={"ContentType": content_type})


def copy(source_key: str, target_key: str) -> None:
    """Server-side copy; the managed transfer switches to multipart copy above 5 GB."""
    bucket = get_settings().media_bucket
    with s3_errors(source_key):
        client("s3").copy({"Bucket": bucket, "Key": source_key}, bucket, target_key)


def is_upload_key(key: str) -> bool:
    """Whether ``key`` is where uploads go (``videos/...``): the only objects ingest may remove.

    Poster frames, renditions and anything else the bucket holds live under other prefixes;
    an admin naming one of them for ingest must never have it deleted as a refused upload.
    """
    return key.startswith(f"{UPLOAD_PREFIX}/") and ".." not in key.split("/")


def delete(key: str) -> None:
    """Best-effort removal (undoing a copy whose row could not be written)."""
    try:
        with s3_errors(key):
            client("s3").delete_object(Bucket=get_settings().media_bucket, Key=key)
    except (NotFound, ServiceUnavailable):
        logger.warning("Could not delete media object", extra={"key": key})


def read_text(key: str, max_bytes: int = 4 * 1024 * 1024) -> str:
    """A small text object (a transcoder's playlist); :class:`NotFound` when it does not exist."""
    with s3_errors(key):
        body = client("s3").get_object(Bucket=get_settings().media_bucket, Key=key)["Body"]
        return bytes(body.read(max_bytes)).decode("utf-8", errors="replace")


def remove(keys: list[str]) -> None:
    """Delete ``keys`` (missing ones are fine); :class:`ServiceUnavailable` unless every one is gone."""
    bucket = get_settings().media_bucket
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        with s3_errors(batch[0]):
            reply = client("s3").delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
        if reply.get("Errors"):
            logger.warning("S3 kept objects", extra={"errors": reply["Errors"][:5]})
            raise ServiceUnavailable("Media storage kept some objects, try again shortly")


def keys_under(prefix: str) -> list[str]:
    """Every key under ``prefix`` (a video's renditions)."""
    keys: list[str] = []
    with s3_errors(prefix):
        for page in (
            client("s3").get_paginator("list_objects_v2").paginate(Bucket=get_settings().media_bucket, Prefix=prefix)
        ):
            keys += [str(item["Key"]) for item in page.get("Contents", [])]
    return keys


def remove_prefix(prefix: str) -> int:
    """Delete every object under ``prefix``; how many there were. :class:`ServiceUnavailable` on failure."""
    keys = keys_under(prefix)
    if keys:
        remove(keys)
    return len(keys)
