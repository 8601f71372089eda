"""HTTP middleware: the Lambda context on every log line, one error format for Chalice's own errors,
CORS on every answer, and the request's metrics flushed once it is answered."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Request, Response

from chalicelib.observability import logger, publish_metrics
from chalicelib.web import cors
from chalicelib.web.request import header

# Chalice answers some requests itself (wrong method, unsupported content type) with
# {"Code": ..., "Message": ...}; clients get one format only.
_CHALICE_CODES = {
    "BadRequestError": "BadRequest",
    "UnsupportedMediaType": "UnsupportedMediaType",
    "MethodNotAllowedError": "MethodNotAllowed",
    "NotFoundError": "NotFound",
    "ForbiddenError": "Forbidden",
    "InternalServerError": "InternalError",
}


@dataclass(frozen=True)
class _Invocation:
    request: Request
    get_response: Callable[[Request], Response]


def _answer(invocation: _Invocation, _context: Any) -> Response:
    return invocation.get_response(invocation.request)


# Powertools' decorator, built once. Chalice's ConvertToMiddleware builds it anew for each request (and the
# original event with it), a noticeable share of a heartbeat's Python (docs/benchmark.md).
_answer_with_log_context = logger.inject_lambda_context(_answer, clear_state=True, log_event=False)


def log_context(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every log line of the request carries the Lambda context (function, request id, cold start), as
    Powertools' ``inject_lambda_context`` gives a handler. The event is never logged: it holds tokens."""
    return _answer_with_log_context(_Invocation(event, get_response), event.lambda_context)


def normalise_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = get_response(event)
    if response.status_code >= 400 and isinstance(response.body, dict) and "Code" in response.body:
        code = str(response.body.get("Code"))
        response.body = json.dumps(
            {"error": _CHALICE_CODES.get(code, code), "message": str(response.body.get("Message", ""))}
        )
        response.headers["Content-Type"] = "application/json"
    return response


def apply_cors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """CORS headers for the caller's origin (preflights are answered by their own OPTIONS routes)."""
    response = get_response(event)
    if event.method != "OPTIONS":
        response.headers.update(cors.response_headers(header(event, "origin")))
    return response


def flush_metrics(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Publish the request's EMF metrics once it is answered.

    Powertools' ``log_metrics`` decorator fits ``(event, context)`` handlers, not
    Chalice views, so the API flushes here; event functions use
    :func:`chalicelib.observability.event_function`.
    """
    try:
        return get_response(event)
    finally:
        publish_metrics()
