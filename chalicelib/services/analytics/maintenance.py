"""Resetting a video's analytics, or forgetting them when the video is deleted.

Both take the refresh lock first (then the video's row), the order every writer of
roll-ups uses: a fold running at the same moment can neither re-create the rows being
removed nor deadlock with the removal.
"""

from __future__ import annotations

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
