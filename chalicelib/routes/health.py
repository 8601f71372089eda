"""``/api/health``: public liveness report."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.schemas.health import Health
from chalicelib.services.health import health_report
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/health", summary="Service health", response=Health, other_success=(503,))
def health(ctx: RequestContext) -> Reply:
    """200 while the database answers (Scheduler down only makes it "degraded"); 503 when it does not."""
    report, database_up = health_report()
    return Reply(Health.model_validate(report), status=200 if database_up else 503)
