"""The API's Chalice app, answering the routes it declares itself without Chalice's per-request machinery.

Every route declared with :func:`chalicelib.web.routing.api_route` authenticates, validates and
answers on its own; around it Chalice would build, for each request, a handler object, the
middleware chain, a case-insensitive copy of the answer's headers and three content-type
matches: for a heartbeat, most of the traffic, a large share of its Python (docs/benchmark.md). So
:class:`MediaApi` answers a declared route itself, through the same registered middleware
composed once, with the same content-type rule and the same proxy answer; Chalice still
registers, packages and runs everything else (CORS preflights, event functions, a method a
path does not have).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice
from chalice.app import CaseInsensitiveMapping, Request, Response, _matches_content_type

from chalicelib.web.responses import JSON, json_response, unexpected_error_response
from chalicelib.web.routing import RouteSpec, answer, spec_of

Answer = Callable[[Request], Response]


class _Headers(CaseInsensitiveMapping):
    """Chalice's case-insensitive headers with a direct ``get`` (Mapping's goes through ``__getitem__``
    and an exception for each missing header; a request reads a handful)."""

    def get(self, key: str, default: Any = None) -> Any:
        return self._dict.get(key.lower(), default)


class _Request(Request):
    def __init__(self, event: dict[str, Any], context: Any) -> None:
        super().__init__(event, context)
        self.headers.__class__ = _Headers  # the same mapping, read faster


class MediaApi(Chalice):
    """Chalice, with the API's declared routes answered directly (see the module's docstring)."""

    def __init__(self, app_name: str) -> None:
        super().__init__(app_name=app_name)
        self._declared: dict[tuple[str, str], Answer] | None = None

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        request_context: dict[str, Any] = event.get("requestContext") or {}
        respond = self._declared_routes().get(
            (request_context.get("resourcePath", ""), request_context.get("httpMethod", ""))
        )
        if respond is None:
            return super().__call__(event, context)
        try:
            response = respond(_Request(event, context))
        except Exception as exc:  # noqa: BLE001 - a failing middleware: still one answer, in the API's format
            response = unexpected_error_response(exc)
        return _proxy_answer(response, self.api.binary_types)

    def register_blueprint(self, *args: Any, **kwargs: Any) -> None:
        super().register_blueprint(*args, **kwargs)
        self._declared = None

    def register_middleware(self, *args: Any, **kwargs: Any) -> None:
        super().register_middleware(*args, **kwargs)
        self._declared = None

    def _declared_routes(self) -> dict[tuple[str, str], Answer]:
        """Each declared route's answer, composed once the routes are registered (at the first request)."""
        if self._declared is None:
            middleware = list(self._get_middleware_handlers("http"))
            self._declared = {
                (path, method): _compose(middleware, spec, entry.view_args)
                for path, methods in self.routes.items()
                for method, entry in methods.items()
                if (spec := spec_of(entry.view_function)) is not None
            }
        return self._declared


def _compose(middleware: list[Callable[..., Any]], spec: RouteSpec, view_args: list[str]) -> Answer:
    """The route's answer inside the app's HTTP middleware, outermost first, as Chalice would run them."""
    names = tuple(view_args)

    def innermost(request: Request) -> Response:
        content_type = request.headers.get("content-type", JSON)  # none: JSON, as Chalice takes it
        if not _accepts(content_type, spec.content_types):
            message = f"Unsupported media type: {content_type}"
            return json_response({"error": "UnsupportedMediaType", "message": message}, 415)
        parameters = request.uri_params or {}
        return answer(spec, request, {name: parameters[name] for name in names})

    chained: Answer = innermost
    for handler in reversed(middleware):
        chained = _link(handler, chained)
    return chained


def _link(handler: Callable[[Request, Answer], Response], following: Answer) -> Answer:
    return lambda request: handler(request, following)


def _accepts(content_type: str, content_types: tuple[str, ...]) -> bool:
    """Chalice's rule (any listed media type matches), its common case first."""
    if content_type.partition(";")[0].strip().lower() in content_types:
        return True
    return _matches_content_type(content_type, list(content_types))


def _proxy_answer(response: Response, binary_types: list[str]) -> dict[str, Any]:
    """The API Gateway proxy answer Chalice gives: single and multi-valued headers apart, a JSON body as
    it is (anything else through Chalice's own conversion, which base64-encodes binary types)."""
    if response.headers.get("Content-Type") != JSON or not isinstance(response.body, str):
        return response.to_dict(binary_types)
    single: dict[str, Any] = {}
    multi: dict[str, Any] = {}
    for name, value in response.headers.items():
        if isinstance(value, list):
            multi[name] = value
        elif "\n" in value:  # as Chalice: a header cannot carry a line break
            return _proxy_answer(unexpected_error_response(ValueError(f"Bad value for header {name!r}")), [])
        else:
            single[name] = value
    return {"headers": single, "multiValueHeaders": multi, "statusCode": response.status_code, "body": response.body}
