"""The API documented by itself: ``/api/openapi.json`` (the OpenAPI 3.1 document built from the
route declarations), ``/api/docs`` (a browsable reference of it) and ``/api/assets/*`` (the
scripts and styles of the API's pages, served by the API, never by a third-party host)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web import static
from chalicelib.web.openapi import document
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route
from chalicelib.web.static import HTML, page_reply

bp = Blueprint(__name__)


@api_route(bp, "/openapi.json", summary="This API's OpenAPI document", response=dict[str, Any])
def openapi_document(ctx: RequestContext) -> Reply:
    body: dict[str, Any] = document(bp.current_app)
    return Reply(body, headers={"Cache-Control": "public, max-age=300"})


@api_route(bp, "/docs", summary="The API reference, in a browser", produces=(HTML,))
def docs_page(ctx: RequestContext) -> Reply:
    """Swagger UI over /api/openapi.json, its code served by the API itself."""
    return page_reply("docs")


@api_route(
    bp,
    "/assets/{asset}",
    summary="A script or style of the API's pages",
    produces=tuple(sorted(set(static.CONTENT_TYPES.values()) - {HTML})),
)
def page_asset(ctx: RequestContext, asset: str) -> Reply:
    found = static.asset(asset)
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Reply(found.text, headers=headers, content_type=found.content_type)
