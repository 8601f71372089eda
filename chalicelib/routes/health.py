"""``/api/health``: liveness for anyone, the dependencies' details for admins."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.schemas.health import Health, HealthAnswer, PublicHealth
from chalicelib.services.health import health_report
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/health", summary="Service health", auth="optional", response=HealthAnswer, other_success=(503,))
def health(ctx: RequestContext) -> Reply:
    """200 while the database answers (Scheduler down only makes it "degraded"); 503 when it does not.
    Anyone gets ``{status}``; an admin token adds each dependency's state, latency and error class."""
    report, database_up = health_report()
    answer = Health.model_validate(report) if ctx.is_admin else PublicHealth(status=report["status"])
    return Reply(answer, status=200 if database_up else 503)
