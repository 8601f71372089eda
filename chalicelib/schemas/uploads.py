"""Presigned uploads into the media bucket."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt

from chalicelib.schemas.base import Answer, Query, RequestBody
from chalicelib.web.inputs import Instant, QueryInt, Text


class UploadUrlBody(RequestBody):
    filename: Text = Field(min_length=1, max_length=1024)
    content_type: Text = Field(min_length=1, max_length=255, alias="contentType", examples=["video/mp4"])
    file_size: StrictInt = Field(ge=1, le=2**53, alias="fileSize", description="Bytes; the URL only accepts this size.")


class UploadHeaders(Answer):
    content_type: str = Field(alias="Content-Type")


class UploadTicket(Answer):
    upload_url: str
    key: str = Field(description="The object key; the video's filename once ingested.")
    expires_in: int
    method: Literal["PUT"]
    headers: UploadHeaders


class FailuresQuery(Query):
    limit: QueryInt = Field(default=100, ge=1, le=500)


class IngestFailureAnswer(Answer):
    key: str = Field(description="The object key of the upload (the object itself has been deleted).")
    reason: str
    failed_at: Instant


class IngestFailures(Answer):
    failures: list[IngestFailureAnswer]


class ProcessingFailureAnswer(Answer):
    video_id: int
    title: str | None
    filename: str
    reason: str = Field(description="Why the ladder could not be made, and what to do.")
    failed_at: Instant


class ProcessingFailures(Answer):
    failures: list[ProcessingFailureAnswer]
