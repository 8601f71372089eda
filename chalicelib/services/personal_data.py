"""The rights of the person (GDPR articles 15 and 17): see what was recorded about a user id, and erase it.

Either an admin asks, or the person with their own access token; anyone else is refused.
Each request is logged with who asked, for the record a controller must keep.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.db.engine import snapshot, transaction
from chalicelib.domain import errors
from chalicelib.domain.personal_data import Erasure, PersonalData
from chalicelib.observability import logger
from chalicelib.repositories import personal_data as repo
from chalicelib.services.auth import Principal


def authorize(requester: Principal, user_id: int) -> None:
    """An admin may reach anyone's data; a person only their own (403 otherwise)."""
    if not requester.is_admin and requester.user_id != user_id:
        raise errors.PermissionDenied("Only the person themself or an admin may reach this user's data")


def export(requester: Principal, user_id: int) -> PersonalData:
    """Everything recorded about ``user_id``: their views (with video, times, watch time, context, QoE) and events."""
    authorize(requester, user_id)
    with snapshot() as connection:
        views = repo.views_of(connection, user_id)
    _audit("Personal data exported", requester, user_id, views=len(views))
    return PersonalData(user_id, views, datetime.now(UTC))


def erase(requester: Principal, user_id: int) -> Erasure:
    """Delete every view carrying ``user_id`` and their events, and correct the roll-ups without them:
    afterwards no row links to the person, and every report counts exactly what is left."""
    from chalicelib.services.analytics import maintenance

    authorize(requester, user_id)
    with transaction() as connection:
        forgotten = maintenance.forget_viewer(connection, user_id)
    erasure = Erasure(user_id, forgotten.views, forgotten.events, forgotten.hours_refolded, datetime.now(UTC))
    _audit(
        "Personal data erased",
        requester,
        user_id,
        views_deleted=erasure.views_deleted,
        events_deleted=erasure.events_deleted,
        hours_refolded=erasure.hours_refolded,
    )
    return erasure


def _audit(message: str, requester: Principal, user_id: int, **details: int) -> None:
    """One structured log line per request: whose data, who asked, in which role, and what was done."""
    logger.info(
        message,
        extra={
            "subject_user_id": user_id,
            "requested_by": requester.user_id,
            "requester_role": requester.role or "USER",
            "as_admin": requester.is_admin,
            **details,
        },
    )
