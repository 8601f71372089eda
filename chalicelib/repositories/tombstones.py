"""Tombstones of deleted videos: what keeps them deleted, and which media is still to purge.

Deleting a video and ingesting an object take the same transaction-scoped advisory lock
on the object's key, so an upload notification that races a delete either finishes
before it (and the delete removes what it wrote) or sees the tombstone and writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from chalicelib.db.models import VideoTombstone

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session


def lock_key(session: Session, filename: str) -> None:
    """Serialise the writes about one media object (ingest, delete) until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 16))"), {"key": filename})


def bury(session: Session, video_id: int, filename: str, thumbnail_key: str | None) -> None:
    statement = insert(VideoTombstone).values(video_id=video_id, filename=filename, thumbnail_key=thumbnail_key)
    session.execute(statement.on_conflict_do_nothing())


def is_buried(session: Session, filename: str) -> bool:
    return session.scalar(select(VideoTombstone.video_id).where(VideoTombstone.filename == filename)) is not None


def is_video_buried(session: Session, video_id: int) -> bool:
    return session.get(VideoTombstone, video_id) is not None


def unpurged(session: Session, limit: int, deleted_before: datetime | None = None) -> list[VideoTombstone]:
    """Deleted videos whose media may still be in the bucket, oldest first."""
    statement = select(VideoTombstone).where(VideoTombstone.purged_at.is_(None))
    if deleted_before is not None:
        statement = statement.where(VideoTombstone.deleted_at < deleted_before)
    return list(session.scalars(statement.order_by(VideoTombstone.deleted_at).limit(limit)))


def mark_purged(session: Session, video_id: int) -> None:
    session.execute(update(VideoTombstone).where(VideoTombstone.video_id == video_id).values(purged_at=func.now()))
