"""Queries on the ``videos`` table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update

from chalicelib.db.models import Video

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class VideoFilters:
    published: bool | None = None
    orientation: str | None = None
    quality: str | None = None
    search: str | None = None
    limit: int = 20
    offset: int = 0


def list_videos(session: Session, filters: VideoFilters) -> tuple[list[Video], int]:
    """One page of videos, newest first, and the total that matched the filters."""
    conditions: list[ColumnElement[bool]] = []
    if filters.published is not None:
        conditions.append(Video.is_published.is_(filters.published))
    if filters.orientation:
        conditions.append(Video.orientation == filters.orientation)
    if filters.quality:
        conditions.append(Video.quality == filters.quality)
    if filters.search:
        pattern = "%" + _escape_like(filters.search) + "%"
        conditions.append(
            or_(
                Video.title.ilike(pattern, escape="\\"),
                Video.producer.ilike(pattern, escape="\\"),
                Video.creator.ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(Video).where(*conditions)) or 0
    page = session.scalars(
        select(Video)
        .where(*conditions)
        .order_by(Video.created_at.desc(), Video.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
    ).all()
    return list(page), int(total)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get(session: Session, video_id: int, *, for_update: bool = False) -> Video | None:
    statement = select(Video).where(Video.id == video_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def get_by_filename(session: Session, filename: str) -> Video | None:
    return session.scalars(select(Video).where(Video.filename == filename)).one_or_none()


def filename_taken(session: Session, filename: str) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Video).where(Video.filename == filename)))


def add(session: Session, video: Video) -> Video:
    session.add(video)
    session.flush()
    session.refresh(video)
    return video


def delete(session: Session, video: Video) -> None:
    session.delete(video)
    session.flush()


def set_thumbnail(session: Session, video_id: int, filename: str, key: str) -> None:
    """Record a made thumbnail, unless the video changed its object or got one meanwhile."""
    session.execute(
        update(Video)
        .where(Video.id == video_id, Video.filename == filename, Video.thumbnail_key.is_(None))
        .values(thumbnail_key=key)
    )
