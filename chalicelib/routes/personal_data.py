"""``/api/analytics/viewers/{user_id}``: a person's recorded data, for them or an admin (GDPR articles 15, 17)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.presenters.personal_data import erased, personal_data
from chalicelib.schemas.personal_data import Erased, PersonalData
from chalicelib.services import personal_data as service
from chalicelib.web.request import RequestContext
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/analytics/viewers/{user_id}",
    summary="Everything recorded about a user",
    auth="user",
    response=PersonalData,
    tag="privacy",
)
def export_viewer(ctx: RequestContext, user_id: int) -> PersonalData:
    """The person's own access token, or an admin's: every view carrying their user id (its video, times,
    watch time, position, what it played, page, device, country, visitor key, QoE) with its events.
    An id with nothing recorded answers an empty list. Logged with who asked."""
    return personal_data(service.export(ctx.requester, user_id))


@api_route(
    bp,
    "/analytics/viewers/{user_id}",
    "DELETE",
    summary="Erase everything recorded about a user",
    auth="user",
    response=Erased,
    tag="privacy",
)
def erase_viewer(ctx: RequestContext, user_id: int) -> Erased:
    """The person's own access token, or an admin's: every view carrying their user id and those views'
    events are deleted, and the analytics recomputed without them (figures stay exact over what is
    left). The answer says what was done; erasing again deletes nothing. Logged with who asked."""
    return erased(service.erase(ctx.requester, user_id))
