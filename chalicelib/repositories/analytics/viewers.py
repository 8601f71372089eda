"""Registered users who watched a video and agreed that their views carry their user id, from raw views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.repositories.analytics.figures import COUNTED_VIEWS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class RegisteredViewer:
    user_id: int
    name: str | None
    email: str | None
    views: int
    watch_time_seconds: int
    last_viewed_at: datetime


_VIEWERS = text(
    f"""
    SELECT u.id AS user_id, u.name, u.email, count(*) AS views, COALESCE(sum(vw.watch_time_seconds), 0) AS watch,
           max(vw.created_at) AS last_viewed_at
    FROM {COUNTED_VIEWS} vw JOIN users u ON u.id = vw.user_id
    WHERE vw.video_id = :video_id AND vw.is_team = ANY(CAST(:teams AS boolean[])) AND vw.consented
    GROUP BY u.id
    ORDER BY last_viewed_at DESC, u.id
    LIMIT :limit
    """
)


def registered(connection: Connection, video_id: int, limit: int, teams: tuple[bool, ...]) -> list[RegisteredViewer]:
    params = {"video_id": video_id, "limit": limit, "teams": list(teams)}
    return [
        RegisteredViewer(int(row.user_id), row.name, row.email, int(row.views), int(row.watch), row.last_viewed_at)
        for row in connection.execute(_VIEWERS, params)
    ]
