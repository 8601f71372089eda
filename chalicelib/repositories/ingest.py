"""Writes of the media ingest: one statement per probed object, race-free.

``videos.filename`` is unique, so ingest is an upsert on it: a re-delivered S3
notification or a concurrent synchronous ingest of the same key updates the
one row instead of creating a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import insert

from chalicelib.db.models import Video

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Technical fields ffprobe measures; editorial fields (title, producer, ...) and
# publication state are never overwritten by a re-probe.
PROBED_FIELDS = ("duration", "file_size", "width", "height", "orientation", "quality", "has_audio")


def upsert_probed(session: Session, values: dict[str, Any]) -> tuple[Video, bool]:
    """Insert the video or refresh its probed fields; returns the row and whether it was created."""
    insert_row = insert(Video).values(**values)
    upsert: Any = insert_row.on_conflict_do_update(
        index_elements=[Video.filename],
        set_={**{name: insert_row.excluded[name] for name in PROBED_FIELDS}, "updated_at": func.now()},
    ).returning(Video.id, literal_column("xmax = 0").label("inserted"))
    row = session.execute(upsert).one()
    video = session.scalars(select(Video).where(Video.id == row.id).execution_options(populate_existing=True)).one()
    return video, bool(row.inserted)
