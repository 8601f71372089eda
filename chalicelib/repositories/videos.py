"""Queries on the ``videos`` table.

Reads return :class:`~chalicelib.domain.video.Video`; only :func:`lock` hands out the
ORM row, to a service that changes it inside its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from chalicelib.db.models import Video as VideoRow
from chalicelib.domain.video import Video, VideoFilters

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

_FIELDS = tuple(field.name for field in fields(Video))


def video_of(row: VideoRow) -> Video:
    """The domain video of a loaded row (every column read now, so it outlives the session)."""
    return Video(**{name: getattr(row, name) for name in _FIELDS})


def list_videos(session: Session, filters: VideoFilters) -> tuple[list[Video], int]:
    """One page of videos, newest first, and the total that matched the filters."""
    conditions: list[ColumnElement[bool]] = []
    if filters.published is not None:
        conditions.append(VideoRow.is_published.is_(filters.published))
    if filters.orientation:
        conditions.append(VideoRow.orientation == filters.orientation)
    if filters.quality:
        conditions.append(VideoRow.quality == filters.quality)
    if filters.search:
        pattern = "%" + _escape_like(filters.search) + "%"
        conditions.append(
            or_(
                VideoRow.title.ilike(pattern, escape="\\"),
                VideoRow.producer.ilike(pattern, escape="\\"),
                VideoRow.creator.ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(VideoRow).where(*conditions)) or 0
    page = session.scalars(
        select(VideoRow)
        .where(*conditions)
        .order_by(VideoRow.created_at.desc(), VideoRow.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
    ).all()
    return [video_of(row) for row in page], int(total)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get(session: Session, video_id: int) -> Video | None:
    row = session.scalars(select(VideoRow).where(VideoRow.id == video_id)).one_or_none()
    return video_of(row) if row is not None else None


def lock(session: Session, video_id: int) -> VideoRow | None:
    """The video's row, locked until the transaction ends, for a service that changes it."""
    return session.scalars(select(VideoRow).where(VideoRow.id == video_id).with_for_update()).one_or_none()


def filename_taken(session: Session, filename: str) -> bool:
    return bool(session.scalar(select(func.count()).select_from(VideoRow).where(VideoRow.filename == filename)))


def add(session: Session, values: Mapping[str, Any]) -> Video:
    """Insert a video; the answer carries the server's defaults (zeroed analytics, timestamps)."""
    row = VideoRow(**values)
    session.add(row)
    session.flush()
    session.refresh(row)
    return video_of(row)


def update_fields(session: Session, video_id: int, changes: Mapping[str, Any]) -> Video | None:
    """Set ``changes`` on the video (locked); None when there is no such video."""
    row = lock(session, video_id)
    if row is None:
        return None
    for name, value in changes.items():
        setattr(row, name, value)
    session.flush()
    session.refresh(row)
    return video_of(row)


def delete(session: Session, video_id: int) -> bool:
    """Delete the video (its views, events and schedule history cascade); False when there was none."""
    row = lock(session, video_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def set_thumbnail(session: Session, video_id: int, filename: str, key: str) -> bool:
    """Record a made thumbnail, unless the video changed its object, got one meanwhile or is gone."""
    recorded = session.execute(
        update(VideoRow)
        .where(VideoRow.id == video_id, VideoRow.filename == filename, VideoRow.thumbnail_key.is_(None))
        .values(thumbnail_key=key)
        .returning(VideoRow.id)
    ).one_or_none()
    return recorded is not None
