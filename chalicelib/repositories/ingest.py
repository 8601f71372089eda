"""Writes of the media ingest: one statement per probed object, race-free.

``videos.filename`` is unique, so ingest is an upsert on it: a re-delivered S3
notification or a concurrent synchronous ingest of the same key updates the
one row instead of creating a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import insert

from chalicelib.db.models import IngestFailure
from chalicelib.db.models import Video as VideoRow
from chalicelib.domain.video import Video
from chalicelib.repositories.videos import video_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Technical fields ffprobe measures; editorial fields (title, producer, ...) and
# publication state are never overwritten by a re-probe.
PROBED_FIELDS = ("duration", "file_size", "width", "height", "orientation", "quality", "has_audio")
MAX_REASON_CHARS = 1000


def upsert_probed(session: Session, values: dict[str, Any], descriptive: tuple[str, ...] = ()) -> tuple[Video, bool]:
    """Insert the video or refresh its probed fields (and the ``descriptive`` fields the caller
    gave); returns the video and whether it was created."""
    insert_row = insert(VideoRow).values(**values)
    refreshed = (*PROBED_FIELDS, *descriptive)
    upsert: Any = insert_row.on_conflict_do_update(
        index_elements=[VideoRow.filename],
        set_={**{name: insert_row.excluded[name] for name in refreshed}, "updated_at": func.now()},
    ).returning(VideoRow.id, literal_column("xmax = 0").label("inserted"))
    row = session.execute(upsert).one()
    statement = select(VideoRow).where(VideoRow.id == row.id).execution_options(populate_existing=True)
    return video_of(session.scalars(statement).one()), bool(row.inserted)


def add_failure(session: Session, key: str, reason: str) -> None:
    session.add(IngestFailure(key=key, reason=reason[:MAX_REASON_CHARS]))


def recent_failures(session: Session, limit: int) -> list[IngestFailure]:
    statement = select(IngestFailure).order_by(IngestFailure.failed_at.desc(), IngestFailure.id.desc()).limit(limit)
    return list(session.scalars(statement))
