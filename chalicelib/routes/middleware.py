"""HTTP middleware: CORS origin reflection and one error format for Chalice's own errors."""

from __future__ import annotations

import json
from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.config import get_settings
from chalicelib.observability import metrics
from chalicelib.routes.http import header

# Chalice answers some requests itself (unknown route, wrong method, unsupported
# content type) with {"Code": ..., "Message": ...}; clients get one format only.
_CHALICE_CODES = {
    "BadRequestError": "BadRequest",
    "UnsupportedMediaType": "UnsupportedMediaType",
    "MethodNotAllowedError": "MethodNotAllowed",
    "NotFoundError": "NotFound",
    "ForbiddenError": "Forbidden",
    "InternalServerError": "InternalError",
}


def normalise_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = get_response(event)
    if response.status_code >= 400 and isinstance(response.body, dict) and "Code" in response.body:
        code = str(response.body.get("Code"))
        response.body = json.dumps(
            {"error": _CHALICE_CODES.get(code, code), "message": str(response.body.get("Message", ""))}
        )
        response.headers["Content-Type"] = "application/json"
    return response


def reflect_cors_origin(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Echo the caller's Origin when it is one of ``CORS_ALLOWED_ORIGINS``.

    API Gateway's static CORS config can name one origin only; the frontend may be
    served from several (admin panel, public site), so the match is done here.
    """
    response = get_response(event)
    origins = get_settings().cors_allowed_origins
    origin = header(event, "origin")
    if origins and origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


def flush_metrics(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Publish the request's EMF metrics once it is answered.

    Powertools' ``log_metrics`` decorator fits ``(event, context)`` handlers, not
    Chalice views, so the API flushes here; Lambda functions use the decorator.
    """
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics(raise_on_empty_metrics=False)
