"""The thin HTTP layer every Blueprint shares: request parsing, auth guards and
the mapping from domain errors to JSON error responses.

Chalice turns an exception raised by a view into its own 500 before middleware
sees it, so each view is wrapped by :func:`api_route`, which answers every
failure as ``{"error": "<Code>", "message": "<text>"}`` with the right status.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from chalice import Blueprint, CORSConfig, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib import errors
from chalicelib.config import get_settings
from chalicelib.observability import logger
from chalicelib.services.auth import Principal, decode_access_token

Model = TypeVar("Model", bound=BaseModel)
AuthMode = Literal["public", "optional", "admin"]

MAX_BODY_BYTES = 64 * 1024
MAX_DB_INT = 2**31 - 1
JSON_CONTENT_TYPES = ["application/json"]
# navigator.sendBeacon posts a string body as text/plain; tracking routes accept it.
BEACON_CONTENT_TYPES = ["application/json", "text/plain"]

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
# pydantic error types that mean "wrong shape" (400) rather than "wrong value" (422).
_SHAPE_ERRORS = {
    "missing",
    "model_type",
    "dict_type",
    "list_type",
    "string_type",
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "int_from_float",
    "json_invalid",
    "extra_forbidden",
    "datetime_type",
    "datetime_parsing",
    "date_parsing",
    "date_from_datetime_parsing",
    "decimal_type",
    "decimal_parsing",
    "finite_number",
    "union_tag_invalid",
    "union_tag_not_found",
}


@dataclass
class Reply:
    """A view's answer when the status or headers are not the default 200 JSON."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RequestContext:
    """What a view needs from the HTTP request, already authenticated."""

    request: Request
    principal: Principal | None

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id if self.principal else None

    @property
    def is_admin(self) -> bool:
        return bool(self.principal and self.principal.is_admin)

    @property
    def client_ip(self) -> str:
        """API Gateway's view of the caller; client-supplied headers are never trusted."""
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")

    @property
    def user_agent(self) -> str:
        return header(self.request, "user-agent")

    def json(self, model: type[Model], *, max_bytes: int = MAX_BODY_BYTES) -> Model:
        return model_from_payload(model, self.json_payload(max_bytes=max_bytes))

    def json_payload(self, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
        """The body as parsed JSON, whatever its declared type (application/json or text/plain)."""
        raw = self.request.raw_body or b""
        if len(raw) > max_bytes:
            raise errors.PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
        if not raw.strip():
            raise errors.InvalidInput("Request body must be a JSON object")
        try:
            return json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.InvalidInput("Request body is not valid JSON") from exc

    def query(self, name: str) -> str | None:
        params: Any = self.request.query_params or {}
        value = params.get(name)
        return None if value is None else str(value)

    def query_int(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        if not raw.lstrip("-").isdigit() or len(raw) > 12:
            raise errors.InvalidInput(f"Query parameter '{name}' must be an integer")
        value = int(raw)
        if not minimum <= value <= maximum:
            raise errors.InvalidInput(f"Query parameter '{name}' must be between {minimum} and {maximum}")
        return value

    def query_bool(self, name: str) -> bool | None:
        raw = self.query(name)
        if raw is None or raw == "":
            return None
        if raw.lower() in {"true", "1"}:
            return True
        if raw.lower() in {"false", "0"}:
            return False
        raise errors.InvalidInput(f"Query parameter '{name}' must be true or false")

    def query_choice(self, name: str, choices: Iterable[str]) -> str | None:
        raw = self.query(name)
        if raw is None or raw == "":
            return None
        allowed = tuple(choices)
        if raw not in allowed:
            raise errors.InvalidInput(f"Query parameter '{name}' must be one of {', '.join(allowed)}")
        return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def model_from_payload(model: type[Model], payload: Any) -> Model:
    """Validate a parsed JSON value; wrong shapes are 400, wrong values 422."""
    if not isinstance(payload, dict):
        raise errors.InvalidInput("Request body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise validation_error(exc) from exc


def validation_error(exc: ValidationError) -> errors.DomainError:
    problems = exc.errors(include_url=False, include_input=False)
    message = "; ".join(_describe(problem) for problem in problems[:5])
    if any(problem["type"] in _SHAPE_ERRORS for problem in problems):
        return errors.InvalidInput(message)
    return errors.Unprocessable(message)


def _describe(problem: Any) -> str:
    location = ".".join(str(part) for part in problem.get("loc", ()))
    return f"{location}: {problem.get('msg', 'invalid')}" if location else str(problem.get("msg", "invalid"))


def parse_id(raw: str, what: str = "id") -> int:
    """A path id: digits only (400 otherwise); beyond the column's range it cannot exist (404)."""
    if not raw.isdigit() or len(raw) > 18:
        raise errors.InvalidInput(f"{what} must be a positive integer")
    value = int(raw)
    if value == 0:
        raise errors.InvalidInput(f"{what} must be a positive integer")
    if value > MAX_DB_INT:
        raise errors.NotFound("Video not found")
    return value


def error_response(error: errors.DomainError) -> Response:
    status = STATUS_BY_ERROR.get(type(error), 400)
    headers = {"Content-Type": "application/json"}
    if isinstance(error, errors.RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_seconds)))
    return json_response({"error": error.code, "message": error.message}, status, headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json", **(headers or {})}
    if status == 204:
        return Response(body="", status_code=204, headers=all_headers)
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=status, headers=all_headers)


def header(request: Request, name: str) -> str:
    """A request header (case-insensitive), or "" when absent."""
    headers: Any = request.headers or {}
    return str(headers.get(name) or "")


def authenticate(request: Request, mode: AuthMode) -> Principal | None:
    scheme, _, token = header(request, "authorization").partition(" ")
    has_bearer = scheme.lower() == "bearer" and bool(token.strip())
    if mode == "admin":
        if not has_bearer:
            raise errors.NotAuthenticated("Authorization: Bearer <token> is required")
        principal = decode_access_token(token.strip())
        if not principal.is_admin:
            raise errors.PermissionDenied("Admin role required")
        return principal
    if mode == "optional" and has_bearer:
        try:
            return decode_access_token(token.strip())
        except errors.NotAuthenticated:
            return None  # optional auth ignores a bad token rather than failing the request
    return None


def cors_config() -> CORSConfig:
    """Preflight answer for every route; the actual origin is reflected by the CORS middleware."""
    origins = get_settings().cors_allowed_origins
    return CORSConfig(
        allow_origin=origins[0] if len(origins) == 1 else "*",
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
        max_age=600,
    )


def api_route(
    bp: Blueprint,
    path: str,
    methods: Iterable[str] = ("GET",),
    *,
    auth: AuthMode = "public",
    content_types: list[str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``view(ctx, **path_params)`` on ``bp`` with auth and error handling around it."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**path_params: str) -> Response:
            try:
                principal = authenticate(bp.current_request, auth)
                if auth == "admin" and principal is not None:
                    from chalicelib.services.rate_limits import check_admin_rate

                    check_admin_rate(principal.user_id)
                result = view(RequestContext(bp.current_request, principal), **path_params)
            except errors.DomainError as exc:
                return error_response(exc)
            except Exception as exc:  # noqa: BLE001 - the last line of defence for one request
                return unexpected_error_response(exc)
            if isinstance(result, Reply):
                return json_response(result.body, result.status, result.headers)
            return json_response(result)

        bp.route(path, methods=list(methods), content_types=content_types or JSON_CONTENT_TYPES, cors=cors_config())(
            wrapper
        )
        return wrapper

    return decorator


def unexpected_error_response(exc: Exception) -> Response:
    if is_database_unavailable(exc):
        logger.warning("Database unavailable", exc_info=True)
        return error_response(errors.ServiceUnavailable("Database is unavailable, try again shortly"))
    logger.exception("Unhandled error")
    return json_response({"error": "InternalError", "message": "An internal error occurred"}, 500)


def is_database_unavailable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError | ConnectionError):
        return True  # pg8000 lets a reset socket surface as a bare ConnectionError mid-query
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
