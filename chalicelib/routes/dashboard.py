"""``/api/dashboard``: the analysts' page (library figures and quality of experience, live and
concurrent viewers, breakdowns, schedules, failures, each video's days, retention and referrers, for
a range of days in a time zone), drawn in the browser from this API's own answers."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route
from chalicelib.web.static import HTML, page_reply

bp = Blueprint(__name__)


@api_route(bp, "/dashboard", summary="The analytics dashboard, in a browser", produces=(HTML,))
def dashboard_page(ctx: RequestContext) -> Reply:
    """Public page; it asks for an admin token (pasted, or ``#token=<JWT>``) and calls the admin routes with it."""
    return page_reply("dashboard")
