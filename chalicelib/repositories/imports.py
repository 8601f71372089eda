"""The target side of an import from the module: checkpoints, id maps, reserved ids and bulk copies.

Every function runs in the caller's transaction, so a chunk of rows and the checkpoint
that says it was copied commit together: a killed import never leaves one without the other.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_GET = "SELECT position, detail FROM import_checkpoints WHERE source = :source AND step = :step"
_GETS = {False: text(_GET), True: text(f"{_GET} FOR UPDATE")}
_SET = text(
    """
    INSERT INTO import_checkpoints (source, step, position, detail, updated_at)
    VALUES (:source, :step, :position, CAST(:detail AS jsonb), now())
    ON CONFLICT (source, step) DO UPDATE
    SET position = EXCLUDED.position, detail = EXCLUDED.detail, updated_at = now()
    """
)
_IDS = text("SELECT legacy_id, id, state FROM import_ids WHERE source = :source AND kind = :kind")
_MAP = text(
    """
    INSERT INTO import_ids (source, kind, legacy_id, id, state) VALUES (:source, :kind, :legacy, :id, :state)
    ON CONFLICT (source, kind, legacy_id) DO UPDATE SET id = EXCLUDED.id, state = EXCLUDED.state
    """
)
_EXISTING_USERS = text("SELECT id FROM users WHERE id = ANY(CAST(:ids AS int[]))")
_VIDEO_TAKEN = text("SELECT EXISTS (SELECT 1 FROM videos WHERE id = :id)")
_NEXT_VIDEO_ID = text("SELECT nextval(pg_get_serial_sequence('videos', 'id'))")
_INSERT_VIDEO = text(
    """
    INSERT INTO videos (id, filename, title, producer, creator, thumbnail_url, duration, file_size, width, height,
                        orientation, quality, has_audio, is_published, created_at, updated_at)
    VALUES (:id, :filename, :title, :producer, :creator, :thumbnail_url, :duration, :file_size, :width, :height,
            :orientation, :quality, :has_audio, :is_published, :created_at, :updated_at)
    """
)
_INSERT_HISTORY = text(
    """
    INSERT INTO video_schedule_history (video_id, action, scheduled_for, timezone, executed_at, status, error,
                                        scheduled_by_user_id, created_at)
    VALUES (:video_id, :action, :scheduled_for, :timezone, :executed_at, :status, :error, :user_id, :created_at)
    RETURNING id
    """
)


@dataclass
class Checkpoint:
    """Where a step got to: the last source id copied, and what the step keeps between runs."""

    position: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def checkpoint(connection: Connection, source: str, step: str, *, lock: bool = False) -> Checkpoint:
    """The step's checkpoint; ``lock``: held until the transaction ends (writers that advance it take turns)."""
    row = connection.execute(_GETS[lock], {"source": source, "step": step}).first()
    return Checkpoint(int(row.position), dict(row.detail)) if row else Checkpoint()


def save_checkpoint(connection: Connection, source: str, step: str, point: Checkpoint) -> None:
    params = {"source": source, "step": step, "position": point.position, "detail": json.dumps(point.detail)}
    connection.execute(_SET, params)


def mapped_ids(connection: Connection, source: str, kind: str) -> dict[int, tuple[int, str | None]]:
    """``legacy id → (id here, state)`` of one kind of imported row."""
    rows = connection.execute(_IDS, {"source": source, "kind": kind})
    return {int(row.legacy_id): (int(row.id), row.state) for row in rows}


def map_id(connection: Connection, source: str, kind: str, legacy_id: int, new_id: int, state: str | None) -> None:
    params = {"source": source, "kind": kind, "legacy": legacy_id, "id": new_id, "state": state}
    connection.execute(_MAP, params)


def existing_users(connection: Connection, ids: Iterable[int]) -> set[int]:
    return {int(row.id) for row in connection.execute(_EXISTING_USERS, {"ids": sorted(ids)})}


def insert_users(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Users the imported rows refer to, with their ids; the id sequence moves past them."""
    if not rows:
        return
    connection.execute(
        text(
            "INSERT INTO users (id, email, name, role, created_at) "
            "VALUES (:id, :email, :name, COALESCE(:role, 'USER'), COALESCE(:created_at, now()))"
        ),
        [dict(row) for row in rows],
    )
    connection.execute(
        text("SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))")
    )


def free_video_id(connection: Connection, wanted: int) -> int:
    """``wanted`` when no video has it, else a fresh id from the sequence."""
    if not connection.execute(_VIDEO_TAKEN, {"id": wanted}).scalar_one():
        return wanted
    return int(connection.execute(_NEXT_VIDEO_ID).scalar_one())


def insert_video(connection: Connection, values: Mapping[str, Any]) -> None:
    connection.execute(_INSERT_VIDEO, dict(values))


def move_video_sequence(connection: Connection, at_least: int = 1) -> None:
    """New videos get ids above every existing one and above ``at_least`` (the largest legacy id, so an id
    given to a video whose own was taken is never one a later legacy video keeps)."""
    sequence = _sequence(connection, "videos")
    connection.execute(
        text(
            f"SELECT setval(:s, GREATEST((SELECT max(id) FROM videos), :at_least, (SELECT last_value FROM {sequence})))"
        ),
        {"s": sequence, "at_least": at_least},
    )


def _sequence(connection: Connection, table: str) -> str:
    """The (schema-qualified) name of the table's id sequence, from the catalogue."""
    return str(connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one())


def insert_history(connection: Connection, values: Mapping[str, Any]) -> int:
    return int(connection.execute(_INSERT_HISTORY, dict(values)).scalar_one())


def reserve_ids(connection: Connection, table: str, first_legacy: int, last_legacy: int) -> int:
    """The offset that maps legacy ids ``first_legacy..last_legacy`` onto ids nobody has used here.

    The table's id sequence is moved past the block at once (``setval`` is not rolled
    back), so rows tracked while the import runs never take one of these ids. Into an
    empty table the offset is 0: the legacy ids are kept.
    """
    sequence = _sequence(connection, table)
    next_free = int(
        connection.execute(
            text(
                f"SELECT GREATEST((SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}),"
                f" (SELECT COALESCE(max(id), 0) + 1 FROM {table}))"
            )
        ).scalar_one()
    )
    offset = max(0, next_free - first_legacy)
    connection.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": last_legacy + offset})
    return offset


def copy_rows(connection: Connection, table: str, columns: tuple[str, ...], data: bytes) -> None:
    """``COPY table (columns) FROM STDIN`` (PostgreSQL's text format) inside the caller's transaction."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"COPY {table} ({', '.join(columns)}) FROM STDIN", stream=io.BytesIO(data))
    finally:
        cursor.close()
