"""``/api/health``: public liveness report."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.routes.http import Reply, RequestContext, api_route
from chalicelib.services.health import health_report

bp = Blueprint(__name__)


@api_route(bp, "/health")
def health(ctx: RequestContext) -> Reply:
    report, database_up = health_report()
    return Reply(report, status=200 if database_up else 503)
