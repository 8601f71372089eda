"""``/api/openapi.json``: the API's OpenAPI 3.1 document, built from the route declarations."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.openapi import document
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/openapi.json", summary="This API's OpenAPI document")
def openapi_document(ctx: RequestContext) -> Reply:
    body: dict[str, Any] = document(bp.current_app)
    return Reply(body, headers={"Cache-Control": "public, max-age=300"})
