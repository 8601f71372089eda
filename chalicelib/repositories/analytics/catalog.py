"""The videos as analytics sees them: whether one exists, its duration, locking one, counting them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class VideoCounts:
    total: int
    published: int


_EXISTS = text("SELECT 1 FROM videos WHERE id = :video_id")
_DURATION = text("SELECT duration FROM videos WHERE id = :video_id")
_LOCK = text("SELECT 1 FROM videos WHERE id = :video_id FOR UPDATE")
_COUNTS = text("SELECT count(*) AS total, count(*) FILTER (WHERE is_published) AS published FROM videos")


def exists(connection: Connection, video_id: int) -> bool:
    return connection.execute(_EXISTS, {"video_id": video_id}).first() is not None


def duration(connection: Connection, video_id: int) -> int | None:
    """The video's duration in seconds, None when there is no such video."""
    value = connection.execute(_DURATION, {"video_id": video_id}).scalar()
    return None if value is None else int(value)


def lock(connection: Connection, video_id: int) -> bool:
    """Lock the video's row until the transaction ends; False when there is no such video."""
    return connection.execute(_LOCK, {"video_id": video_id}).first() is not None


def counts(connection: Connection) -> VideoCounts:
    row = connection.execute(_COUNTS).one()
    return VideoCounts(int(row.total), int(row.published))
