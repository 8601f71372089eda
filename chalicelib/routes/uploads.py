"""``POST /api/videos/upload-url``: a presigned S3 PUT so browsers upload straight to the bucket.

The static path wins over ``/videos/{video_id}`` both in API Gateway and in
Chalice's local route matcher (which sorts literal segments first).
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.schemas.uploads import UploadTicket, UploadUrlBody
from chalicelib.services import ingest
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
