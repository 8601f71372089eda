"""Declaring a route: :func:`api_route` registers a view on a Blueprint together with
everything the HTTP layer does around it, and records the declaration (:class:`RouteSpec`)
that :mod:`chalicelib.web.openapi` turns into the API's OpenAPI document.

Around every view, in this order: the sending page's origin for tracking writes (403,
see :mod:`chalicelib.web.origins`), authentication (401/403), the admin rate limit
(429), path parameters (400/404), the query string and the JSON body, each validated
by its pydantic model (400/413/422), then the view, then its answer as JSON. A domain
error becomes its status; an outage a 503; anything else a logged 500. Chalice turns
an exception escaping a view into its own 500 before middleware sees it, which is
why all of this happens inside the wrapper.

Every path also gets an ``OPTIONS`` route that answers CORS preflights from
:mod:`chalicelib.web.cors` (API Gateway's static CORS cannot choose among origins).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel

from chalicelib.domain import errors
from chalicelib.web import cors
from chalicelib.web.auth import TOKEN_REQUIRED, AuthMode, authenticate
from chalicelib.web.inputs import MAX_DB_INT
from chalicelib.web.origins import tracking_source
from chalicelib.web.request import RequestContext, header, parse_body, parse_query
from chalicelib.web.responses import Reply, error_response, json_response, unexpected_error_response
from chalicelib.web.static import ASSETS, parse_sdk_name

JSON_CONTENT_TYPES = ("application/json",)
# navigator.sendBeacon posts a string body as text/plain; tracking routes accept it.
BEACON_CONTENT_TYPES = ("application/json", "text/plain")
_ASCII_ID = re.compile(r"[0-9]{1,18}")
_PLAYLIST = re.compile(r"(?:master|[0-9]{1,4}p)\.m3u8")


@dataclass(frozen=True)
class PathParameter:
    """How a path parameter is parsed, and how the OpenAPI document describes it."""

    parse: Callable[[str], Any]
    schema: dict[str, Any]
    description: str


def parse_video_id(raw: str) -> int:
    """Digits only (400 otherwise); beyond the column's range it cannot exist (404)."""
    if not _ASCII_ID.fullmatch(raw) or int(raw) == 0:
        raise errors.InvalidInput("video_id must be a positive integer")
    value = int(raw)
    if value > MAX_DB_INT:
        raise errors.NotFound("Video not found")
    return value


def parse_user_id(raw: str) -> int:
    """A user id: ASCII digits, 1..2^31-1 (400 otherwise)."""
    if not _ASCII_ID.fullmatch(raw) or not 0 < int(raw) <= MAX_DB_INT:
        raise errors.InvalidInput(f"user_id must be a whole number from 1 to {MAX_DB_INT}")
    return int(raw)


def parse_playlist(raw: str) -> str:
    """``master.m3u8`` or a rung's ``720p.m3u8`` -> its name; anything else names no playlist (404)."""
    if not _PLAYLIST.fullmatch(raw):
        raise errors.NotFound("No such playlist")
    return raw.removesuffix(".m3u8")


def parse_action(raw: str) -> str:
    if raw not in ("publish", "unpublish"):
        raise errors.InvalidInput("action must be 'publish' or 'unpublish'")
    return raw


PATH_PARAMETERS: dict[str, PathParameter] = {
    "video_id": PathParameter(parse_video_id, {"type": "integer", "minimum": 1, "examples": [1]}, "The video's id."),
    "user_id": PathParameter(
        parse_user_id, {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT, "examples": [42]}, "A user's id."
    ),
    "action": PathParameter(parse_action, {"type": "string", "enum": ["publish", "unpublish"]}, "Which schedule."),
    "token": PathParameter(str, {"type": "string", "maxLength": 2048}, "The preview token from a preview link."),
    "playlist": PathParameter(
        parse_playlist,
        {"type": "string", "pattern": "^(master|[0-9]{1,4}p)\\.m3u8$", "examples": ["master.m3u8", "720p.m3u8"]},
        "The master playlist, or one rung's.",
    ),
    "asset": PathParameter(str, {"type": "string", "enum": sorted(ASSETS)}, "A script or style the API's pages use."),
    "sdk_file": PathParameter(
        parse_sdk_name,
        {"type": "string", "pattern": r"^tracker(\.[0-9a-f]{12})?\.m?js$", "examples": ["tracker.js"]},
        "tracker.js (a classic script), tracker.mjs (an ES module), or either with its version (tracker.<version>.js).",
    ),
}


@dataclass(frozen=True)
class RouteSpec:
    """One operation as declared: what it takes, who may call it, what it answers."""

    path: str
    method: str
    view: Callable[..., Any]
    auth: AuthMode
    summary: str
    tag: str
    body: Any = None
    validate_body: bool = True
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    other_success: tuple[int, ...] = ()
    content_types: tuple[str, ...] = JSON_CONTENT_TYPES
    produces: tuple[str, ...] = ("application/json",)
    description: str = ""
    extra_statuses: tuple[int, ...] = ()
    origin_bound: bool = False

    @property
    def operation_id(self) -> str:
        return self.view.__name__


def api_route(
    bp: Blueprint,
    path: str,
    method: str = "GET",
    *,
    summary: str,
    auth: AuthMode = "public",
    body: Any = None,
    validate_body: bool = True,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    other_success: tuple[int, ...] = (),
    content_types: tuple[str, ...] = JSON_CONTENT_TYPES,
    produces: tuple[str, ...] = ("application/json",),
    description: str = "",
    extra_statuses: tuple[int, ...] = (),
    tag: str | None = None,
    origin_bound: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``view(ctx, **path_params)`` on ``bp`` with auth, validation and error handling around it.

    ``body``/``query``/``response`` are pydantic models (``body`` may also be any type a
    ``TypeAdapter`` takes, such as a union); the parsed body and query are handed to the
    view as ``ctx.body`` and ``ctx.params``. ``validate_body=False`` documents ``body`` but
    leaves reading it to the view (a batch whose items are checked one by one).
    ``origin_bound=True`` (tracking writes) refuses pages outside the allowed origins before anything
    else and tells the view the request's source as ``ctx.source`` (:mod:`chalicelib.web.origins`).
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = RouteSpec(
            path=path,
            method=method,
            view=view,
            auth=auth,
            summary=summary,
            tag=tag or bp._import_name.rsplit(".", 1)[-1],
            body=body,
            validate_body=validate_body,
            query=query,
            response=response,
            status=status,
            other_success=other_success,
            content_types=content_types,
            produces=produces,
            description=description or (view.__doc__ or "").strip(),
            extra_statuses=extra_statuses,
            origin_bound=origin_bound,
        )

        @functools.wraps(view)
        def wrapper(**raw_path_params: str) -> Response:
            return answer(spec, bp.current_request, raw_path_params)

        wrapper.api_spec = spec  # type: ignore[attr-defined]
        bp.route(path, methods=[method], content_types=list(content_types))(wrapper)
        _register_preflight(bp, path)
        return wrapper

    return decorator


def spec_of(view_function: Callable[..., Any]) -> RouteSpec | None:
    """The declaration of a view registered by :func:`api_route`; None for any other."""
    return getattr(view_function, "api_spec", None)


def answer(spec: RouteSpec, request: Request, raw_path_params: dict[str, str]) -> Response:
    """The declared route's answer to ``request``: everything the module's docstring lists, then the view."""
    try:
        source = tracking_source(request) if spec.origin_bound else None
        principal = authenticate(request, spec.auth)
        if spec.auth in TOKEN_REQUIRED and principal is not None:
            from chalicelib.services.rate_limits import check_admin_rate

            check_admin_rate(principal.user_id)
        path_params = {name: _path_parameter(name).parse(value) for name, value in raw_path_params.items()}
        ctx = RequestContext(request, principal, source=source)
        if spec.query is not None:
            ctx.params = parse_query(request, spec.query)
        if spec.body is not None and spec.validate_body:
            ctx.body = parse_body(request, spec.body)
        result = spec.view(ctx, **path_params)
    except errors.DomainError as exc:
        return error_response(exc)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for one request
        return unexpected_error_response(exc)
    if isinstance(result, Reply):
        return result.response()
    return json_response(result, spec.status)


def _path_parameter(name: str) -> PathParameter:
    try:
        return PATH_PARAMETERS[name]
    except KeyError:  # a route declared with a parameter nobody described: a programming error
        raise LookupError(f"Path parameter {{{name}}} is not described in PATH_PARAMETERS") from None


_preflight_paths: set[str] = set()


def _register_preflight(bp: Blueprint, path: str) -> None:
    """One ``OPTIONS`` route per path (whichever Blueprint declares it first)."""
    if path in _preflight_paths:
        return
    _preflight_paths.add(path)

    def preflight(**path_params: str) -> Response:
        request = bp.current_request
        route = str((request.context or {}).get("resourcePath") or "")
        methods = [method for method in bp.current_app.routes.get(route, {}) if method != "OPTIONS"]
        headers: dict[str, str | list[str]] = {**cors.preflight_headers(header(request, "origin"), methods)}
        return Response(body="", status_code=204, headers=headers)

    bp.route(path, methods=["OPTIONS"])(preflight)
