"""``POST /api/videos/upload-url``: a presigned S3 PUT so browsers upload straight to the bucket.

The static path wins over ``/videos/{video_id}`` both in API Gateway and in
Chalice's local route matcher (which sorts literal segments first).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.routes.http import RequestContext, api_route
from chalicelib.services import ingest

bp = Blueprint(__name__)


class UploadUrlBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(min_length=1, max_length=255, alias="contentType")
    file_size: int = Field(ge=1, le=2**53, alias="fileSize")


@api_route(bp, "/videos/upload-url", ["POST"], auth="admin")
def create_upload_url(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.json(UploadUrlBody)
    return ingest.request_upload(body.filename, body.content_type, body.file_size).as_json()
