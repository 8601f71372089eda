"""Uploads: ``POST /api/videos/upload-url`` (a presigned S3 PUT, so browsers upload straight to the
bucket), ``GET /api/videos/ingest-failures`` (uploads the ingest refused) and
``GET /api/videos/processing-failures`` (videos whose ladder could not be made).

The static path wins over ``/videos/{video_id}`` both in API Gateway and in
Chalice's local route matcher (which sorts literal segments first).
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.timestamps import iso_utc
from chalicelib.schemas.uploads import (
    FailuresQuery,
    IngestFailureAnswer,
    IngestFailures,
    ProcessingFailureAnswer,
    ProcessingFailures,
    UploadTicket,
    UploadUrlBody,
)
from chalicelib.services import ingest, transcoding
from chalicelib.web.request import RequestContext
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/videos/upload-url",
    "POST",
    summary="Get a presigned upload URL",
    auth="admin",
    body=UploadUrlBody,
    response=UploadTicket,
)
def create_upload_url(ctx: RequestContext) -> UploadTicket:
    """PUT the file to ``uploadUrl`` with the given headers; it is ingested (probed into a video) on arrival.
    Video content types only, at most ``VIDEO_UPLOAD_MAX_BYTES``."""
    body: UploadUrlBody = ctx.body
    ticket = ingest.request_upload(body.filename, body.content_type, body.file_size)
    return UploadTicket.model_validate(ticket.as_json())


@api_route(
    bp,
    "/videos/ingest-failures",
    summary="Uploads that could not be ingested",
    auth="admin",
    query=FailuresQuery,
    response=IngestFailures,
)
def ingest_failures(ctx: RequestContext) -> IngestFailures:
    """Newest first: not a video, unreadable, or too long to probe. Each object was deleted from the bucket."""
    params: FailuresQuery = ctx.params
    return IngestFailures(
        failures=[
            IngestFailureAnswer(key=row.key, reason=row.reason, failed_at=iso_utc(row.failed_at))
            for row in ingest.recent_failures(params.limit)
        ]
    )


@api_route(
    bp,
    "/videos/processing-failures",
    summary="Videos whose HLS ladder could not be made",
    auth="admin",
    query=FailuresQuery,
    response=ProcessingFailures,
)
def processing_failures(ctx: RequestContext) -> ProcessingFailures:
    """Newest first, each with the reason an admin can act on (upload a playable file, use MediaConvert...).
    Such a video keeps its original: ``streamUrl`` still plays where the browser can decode it."""
    params: FailuresQuery = ctx.params
    return ProcessingFailures(
        failures=[
            ProcessingFailureAnswer(
                video_id=failure.video_id,
                title=failure.title,
                filename=failure.filename,
                reason=failure.reason,
                failed_at=iso_utc(failure.failed_at),
            )
            for failure in transcoding.recent_failures(params.limit)
        ]
    )
