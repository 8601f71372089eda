"""Resetting a video's analytics, forgetting them when the video is deleted, and forgetting a person's views.

Both take the refresh lock first (then the video's row), the order every writer of
roll-ups uses: a fold running at the same moment can neither re-create the rows being
removed nor deadlock with the removal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.db.engine import transaction
from chalicelib.domain import errors
from chalicelib.repositories.analytics import catalog, maintenance, state

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def reset(video_id: int) -> None:
    """Delete the video's views, events and roll-ups and zero its stored figures, in one transaction."""
    with transaction() as connection:
        state.lock(connection)
        if not catalog.lock(connection, video_id):
            raise errors.NotFound("Video not found")
        maintenance.reset_video(connection, video_id)


def forget_video(connection: Connection, video_id: int) -> None:
    """Remove a video's roll-ups and its share of the library's, in the caller's transaction (video deletion)."""
    state.lock(connection)
    maintenance.forget_video(connection, video_id)


@dataclass(frozen=True)
class Forgotten:
    """A person's views and events removed from the analytics, and the folded hours recomputed without them."""

    views: int
    events: int
    hours_refolded: int


def forget_viewer(connection: Connection, user_id: int) -> Forgotten:
    """Delete every view carrying ``user_id`` and their events, and correct the roll-ups they were in,
    in the caller's transaction: their counted audience is taken back, then the hours that held them
    are refolded from the rows left (:func:`folding.refold`). Under the refresh lock, so no fold runs
    in between."""
    from chalicelib.repositories.analytics import audience
    from chalicelib.services.analytics import folding

    state.lock(connection)
    audience.forget_user(connection, user_id)
    views, events = maintenance.delete_user_views(connection, user_id)
    hours = folding.refold(connection, [*views, *events]) if views or events else 0
    return Forgotten(len(views), len(events), hours)
