"""Answers: JSON bodies, and one error shape, ``{"error": "<Code>", "message": "<text>"}``,
for every failure with the status its domain error class stands for."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from chalice import Response
from pydantic import BaseModel

from chalicelib.domain import errors
from chalicelib.observability import logger

JSON = "application/json"
STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 400,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.PayloadTooLarge: 413,
    errors.Unprocessable: 422,
    errors.RateLimited: 429,
    errors.ServiceUnavailable: 503,
}


@dataclass
class Reply:
    """A view's answer when the status, headers or content type are not the default 200 JSON."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON

    def response(self) -> Response:
        if self.content_type == JSON:
            return json_response(self.body, self.status, self.headers)
        headers: dict[str, str | list[str]] = {**self.headers, "Content-Type": self.content_type}
        return Response(body=str(self.body), status_code=self.status, headers=headers)


def status_of(error: errors.DomainError) -> int:
    return STATUS_BY_ERROR.get(type(error), 400)


def error_response(error: errors.DomainError) -> Response:
    headers = {}
    retry_after = getattr(error, "retry_after_seconds", None)
    if retry_after is not None:  # 429 and 503 say when to come back
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return json_response({"error": error.code, "message": error.message}, status_of(error), headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json", **(headers or {})}
    if status == 204:
        return Response(body="", status_code=204, headers=all_headers)
    if isinstance(body, BaseModel):
        text = body.model_dump_json(by_alias=True)
    else:
        text = json.dumps(body, separators=(",", ":"))
    return Response(body=text, status_code=status, headers=all_headers)


def unexpected_error_response(exc: Exception) -> Response:
    """The last line of defence for one request: an outage is a 503, anything else a logged 500."""
    from chalicelib.db.failures import is_unavailable

    if is_unavailable(exc):
        logger.warning("Database unavailable", extra={"error": type(exc).__name__})
        return error_response(errors.ServiceUnavailable("Database is unavailable, try again shortly"))
    if _from_aws(exc):
        logger.warning("AWS dependency unavailable", extra={"error": type(exc).__name__})
        return error_response(errors.ServiceUnavailable("A cloud dependency is unavailable, try again shortly"))
    logger.exception("Unhandled error")
    return json_response({"error": "InternalError", "message": "An internal error occurred"}, 500)


def _from_aws(exc: BaseException) -> bool:
    """Whether botocore raised somewhere in the chain (e.g. Secrets Manager unreachable at cold start)."""
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return False
        if type(current).__module__.startswith("botocore"):
            return True
        current = current.__cause__ or current.__context__
    return False
