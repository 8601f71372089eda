"""HTTP middleware: the Lambda context on every log line, one error format for Chalice's own errors,
CORS on every answer, and the request's metrics flushed once it is answered."""

from __future__ import annotations

import json
from collections.abc import Callable
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


# Powertools' own per-request reset: the log keys cleared, the Lambda context's keys and cold_start set.
_reset_log_keys = logger.inject_lambda_context(lambda _event, _context: None, clear_state=True, log_event=False)


class _RequestLogKeys:
    """Each request's log keys as Powertools' ``inject_lambda_context(clear_state=True)`` sets them.

    Its reset rebuilds every key on each request, a large share of a heartbeat's Python
    (docs/benchmark.md). When the previous request left the keys as they were set (almost every
    request: few log, fewer add keys), only the Lambda context's keys change, so only they are
    written; anything else takes Powertools' reset.
    """

    def __init__(self) -> None:
        self._as_set: dict[str, Any] | None = None

    def start(self, context: Any) -> None:
        keys = logger.get_current_keys()
        if (
            self._as_set is None
            or keys != self._as_set
            or logger.thread_safe_get_current_keys()
            or logger.sampling_rate
        ):
            _reset_log_keys(None, context)
            keys = logger.get_current_keys()
        else:
            keys.update(
                cold_start=False,
                function_name=context.function_name,
                function_memory_size=context.memory_limit_in_mb,
                function_arn=context.invoked_function_arn,
                function_request_id=context.aws_request_id,
            )
        self._as_set = dict(keys)


_request_log_keys = _RequestLogKeys()


def log_context(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every log line of the request carries the Lambda context (function, request id, cold start), as
    Powertools' ``inject_lambda_context`` gives a handler. The event is never logged: it holds tokens."""
    _request_log_keys.start(event.lambda_context)
    return get_response(event)


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
