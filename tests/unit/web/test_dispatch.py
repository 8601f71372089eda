"""The API's app answers its declared routes itself: exactly as Chalice, with the same middleware, would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice import Blueprint, Chalice
from pydantic import BaseModel

from chalicelib.entry import URL_PREFIX, build_api
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import BEACON_CONTENT_TYPES, api_route
from scripts.apigw import LambdaContext, proxy_event

ORIGIN = "https://site.example"


class Thing(BaseModel):
    name: str
    size: int = 1


def _blueprint(prefix: str) -> Blueprint:
    """The routes under ``prefix``: a blueprint registers in one app only, and a path's preflight with the first."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint, f"{prefix}/things", "POST", summary="Make a thing", body=Thing, content_types=BEACON_CONTENT_TYPES
    )
    def make_thing(ctx: RequestContext) -> dict[str, Any]:
        return {"made": ctx.body.name, "size": ctx.body.size}

    @api_route(blueprint, prefix + "/things/{video_id}", "GET", summary="Read a thing")
    def read_thing(ctx: RequestContext, video_id: int) -> Reply:
        return Reply({"id": video_id}, headers={"Cache-Control": "no-store"})

    @api_route(blueprint, prefix + "/things/{video_id}/page", "GET", summary="A thing's page")
    def thing_page(ctx: RequestContext, video_id: int) -> Reply:
        return Reply(f"<p>{video_id}</p>", content_type="text/html; charset=utf-8")

    @api_route(blueprint, f"{prefix}/broken", "GET", summary="Fail")
    def broken(ctx: RequestContext) -> dict[str, Any]:
        raise KeyError("a bug")

    return blueprint


API, PLAIN = "/ours", "/plain"


@pytest.fixture(scope="module")
def apps() -> tuple[Any, Chalice]:
    """The API's app, and a plain Chalice app with the same middleware and the same routes under another path."""
    api = build_api(_blueprint(API))
    plain = Chalice(app_name="plain")
    for handler, kind in api.middleware_handlers:
        plain.register_middleware(handler, kind)
    plain.register_blueprint(_blueprint(PLAIN), url_prefix=URL_PREFIX)
    return api, plain


def _thing(body: Any, content_type: str | None = "application/json", **headers: str) -> Any:
    def event(prefix: str) -> dict[str, Any]:
        made = proxy_event("POST", f"/api{prefix}/things", body=body, headers=headers)
        if content_type is None:
            del made["headers"]["content-type"]
        else:
            made["headers"]["content-type"] = content_type
        return made

    return event


def _get(path: str, method: str = "GET", **headers: str) -> Any:
    def event(prefix: str) -> dict[str, Any]:
        parameters = {"video_id": path.split("/", maxsplit=1)[0]} if "/" in path else None
        resource = f"/api{prefix}/things/{{video_id}}/{path.split('/')[1]}" if parameters else f"/api{prefix}/{path}"
        return proxy_event(method, resource.rstrip("/"), path_parameters=parameters, headers=headers)

    return event


EVENTS = {
    "a body as JSON": _thing({"name": "a", "size": 2}),
    "a body as a beacon's text": _thing({"name": "a"}, "text/plain;charset=UTF-8"),
    "JSON with a charset": _thing({"name": "a"}, "application/json; charset=utf-8"),
    "no content type": _thing({"name": "a"}, None),
    "a content type the route does not take": _thing({"name": "a"}, "text/xml"),
    "a list of content types": _thing({"name": "a"}, "text/xml, application/json"),
    "any content type": _thing({"name": "a"}, "*/*"),
    "not JSON": _thing("{name", "application/json"),
    "NaN": _thing('{"name": "a", "size": NaN}'),
    "too deep": _thing('{"name": "a", "x": ' + "[" * 40 + "]" * 40 + "}"),
    "a missing field": _thing({"size": 2}),
    "a value refused": _thing({"name": "a", "size": "many"}),
    "a page's origin": _thing({"name": "a"}, origin=ORIGIN),
    "a path parameter": _get("7/"),
    "a bad path parameter": _get("x/"),
    "a page": _get("7/page"),
    "a bug": _get("broken"),
    "a method the path has not": _get("things", "DELETE"),
    "a preflight": _get("things", "OPTIONS", origin=ORIGIN),
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_a_declared_route_answers_as_chalice_would(
    apps: tuple[Any, Chalice], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", ORIGIN)
    get_settings.cache_clear()
    api, plain = apps
    assert _answer(api, EVENTS[name](API)) == _answer(plain, EVENTS[name](PLAIN))


def _answer(app: Any, event: dict[str, Any]) -> dict[str, Any]:
    answer = app(json.loads(json.dumps(event)), LambdaContext())
    if "json" in str(answer["headers"].get("Content-Type")):
        answer["body"] = json.loads(answer["body"])  # the same JSON, however it is spaced
    return answer


def test_chalice_no_longer_handles_a_declared_route(apps: tuple[Any, Chalice], monkeypatch: pytest.MonkeyPatch) -> None:
    """What the module is for: a declared route never goes through Chalice's per-request handler."""
    from chalice import app as chalice_app

    api, _ = apps

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Chalice's handler was used")

    monkeypatch.setattr(chalice_app.RestAPIEventHandler, "__call__", refuse)
    assert api(_thing({"name": "a"})(API), LambdaContext())["statusCode"] == 200
    with pytest.raises(AssertionError):
        api(_get("things", "OPTIONS")(API), LambdaContext())


def test_the_cases_cover_every_kind_of_answer(apps: tuple[Any, Chalice]) -> None:
    api, _ = apps
    statuses = {api(event(API), LambdaContext())["statusCode"] for event in EVENTS.values()}
    assert statuses == {200, 204, 400, 405, 415, 500}


def test_middleware_and_routes_registered_after_a_request_apply() -> None:
    """As with Chalice, which reads them on every request: the declared routes are composed again."""
    api = build_api(_blueprint("/late"))
    assert api(_thing({"name": "a"})("/late"), LambdaContext())["statusCode"] == 200

    def tag(event: Any, get_response: Any) -> Any:
        response = get_response(event)
        response.headers["X-Tagged"] = "yes"
        return response

    api.register_middleware(tag, "http")
    assert api(_thing({"name": "a"})("/late"), LambdaContext())["headers"]["X-Tagged"] == "yes"
    api.register_blueprint(_blueprint("/later"), url_prefix=URL_PREFIX)
    assert api(_thing({"name": "b"})("/later"), LambdaContext())["statusCode"] == 200
