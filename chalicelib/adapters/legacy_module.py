"""The module's PostgreSQL, read-only: its Prisma-shaped tables in one consistent snapshot.

Prisma maps the models to snake_case tables (``videos``, ``video_views``, ``video_events``,
``video_schedule_history``, ``users``) with camelCase columns (``"videoId"``, ``"createdAt"``, ...);
its ``DateTime`` columns are ``timestamp(3)`` holding UTC, read here ``AT TIME ZONE 'UTC'``.
Every table is named with its schema, so the module's tables are found even when this
service shares the database and its own tables of the same names come first on the path.

The whole run reads one ``REPEATABLE READ READ ONLY`` transaction: nothing is written to
the source, and every step sees the same rows. Raw views and events leave as
``COPY (SELECT ...) TO STDOUT`` in PostgreSQL's text format, already in this service's
column order, so the target loads them with ``COPY FROM`` without parsing a row.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pg8000.native

from chalicelib.db.engine import pg8000_connect_kwargs

TABLES = ("videos", "video_views", "video_events", "video_schedule_history", "users")
UTC_OF = "({column} AT TIME ZONE 'UTC')"


@dataclass(frozen=True)
class LegacyVideo:
    id: int
    filename: str
    title: str | None
    producer: str | None
    creator: str | None
    thumbnail_url: str | None
    duration: int
    file_size: int
    width: int
    height: int
    orientation: str
    quality: str
    has_audio: bool
    is_published: bool
    scheduled_publish_at: datetime | None
    scheduled_unpublish_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LegacySchedule:
    id: int
    video_id: int
    action: str
    scheduled_for: datetime
    executed_at: datetime | None
    status: str
    error: str | None
    scheduled_by_user_id: int


@dataclass(frozen=True)
class IdRange:
    """Source rows with ``after < id <= last``, how many, and the span of their times."""

    after: int
    last: int
    count: int
    oldest: datetime | None


class SourceError(RuntimeError):
    """The source is not the module's database (a table or column is missing), or cannot be read."""


class LegacySource:
    """One read-only snapshot of the module's database."""

    def __init__(self, url: str, schema: str = "public") -> None:
        kwargs = pg8000_connect_kwargs(url)
        kwargs.pop("startup_params", None)  # the source's own search path; its tables are named with their schema
        self.schema = schema
        self.key = source_key(kwargs, schema)
        self._reading = threading.Lock()
        try:
            self._db = pg8000.native.Connection(**kwargs, application_name="media-api-import")
        except Exception as exc:  # any connection failure is reported the same way
            raise SourceError(f"cannot connect to SOURCE_DATABASE_URL: {exc}") from exc
        self._db.run("START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._check_tables()

    def close(self) -> None:
        try:
            self._db.run("ROLLBACK")
        finally:
            self._db.close()

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    def _check_tables(self) -> None:
        rows = self._db.run(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema", schema=self.schema
        )
        present = {str(row[0]) for row in rows}
        missing = [name for name in TABLES[:4] if name not in present]
        if missing:
            raise SourceError(f"the source schema {self.schema!r} has no table {', '.join(missing)}: not the module's")
        self.has_users = "users" in present

    def run(self, sql: str, **params: Any) -> list[list[Any]]:
        with self._reading:
            return list(self._db.run(sql, **params) or [])

    def videos(self) -> list[LegacyVideo]:
        rows = self.run(
            f"""SELECT id, filename, title, producer, creator, "thumbnailUrl", duration, "fileSize", width, height,
                       orientation, quality, "hasAudio", "isPublished", {UTC_OF.format(column='"scheduledPublishAt"')},
                       {UTC_OF.format(column='"scheduledUnpublishAt"')}, {UTC_OF.format(column='"createdAt"')},
                       {UTC_OF.format(column='"updatedAt"')}
                FROM {self.table("videos")} ORDER BY id"""
        )
        return [LegacyVideo(*row) for row in rows]

    def schedules(self) -> list[LegacySchedule]:
        rows = self.run(
            f"""SELECT id, "videoId", action, {UTC_OF.format(column='"scheduledFor"')},
                       {UTC_OF.format(column='"executedAt"')}, status, error, "scheduledByUserId"
                FROM {self.table("video_schedule_history")} ORDER BY id"""
        )
        return [LegacySchedule(*row) for row in rows]

    def referenced_users(self) -> set[int]:
        rows = self.run(
            f"""SELECT DISTINCT "userId" FROM {self.table("video_views")} WHERE "userId" IS NOT NULL
                UNION SELECT "scheduledByUserId" FROM {self.table("video_schedule_history")}"""
        )
        return {int(row[0]) for row in rows}

    def users(self, ids: list[int]) -> list[dict[str, Any]]:
        """The main API's users with these ids: id, email, name, role and creation time where it has them."""
        if not ids or not self.has_users:
            return []
        columns = {
            str(row[0])
            for row in self.run(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = 'users'",
                s=self.schema,
            )
        }
        created = next((name for name in ("createdAt", "created_at") if name in columns), None)
        select = [
            "id",
            "email",
            '"name"' if "name" in columns else "NULL",
            "role::text" if "role" in columns else "NULL",
            UTC_OF.format(column=f'"{created}"') if created else "NULL",
        ]
        rows = self.run(
            f"SELECT {', '.join(select)} FROM {self.table('users')} WHERE id = ANY(CAST(:ids AS int[])) ORDER BY id",
            ids=ids,
        )
        return [dict(zip(("id", "email", "name", "role", "created_at"), row, strict=True)) for row in rows]

    def id_range(self, table: str, after: int) -> IdRange:
        last, count = self.run(f"SELECT max(id), count(*) FROM {self.table(table)} WHERE id > :after", after=after)[0]
        oldest = None
        if count:
            oldest = self.run(
                f"""SELECT min("createdAt") AT TIME ZONE 'UTC' FROM {self.table(table)} WHERE id > :after""",
                after=after,
            )[0][0]
        return IdRange(after, int(last or after), int(count), oldest)

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        """The oldest and newest raw row (views and events): the months they need partitions for."""
        views, events = self.table("video_views"), self.table("video_events")
        row = self.run(
            f"""SELECT least(v.lo, e.lo) AT TIME ZONE 'UTC', greatest(v.hi, e.hi) AT TIME ZONE 'UTC'
                FROM (SELECT min("createdAt"), max("createdAt") FROM {views}) v(lo, hi),
                     (SELECT min("createdAt"), max("createdAt") FROM {events}) e(lo, hi)"""
        )[0]
        return row[0], row[1]

    def copy_out(self, sql: str) -> bytes:
        """The rows of ``sql`` in COPY text format (one line per row, tab-separated, ``\\N`` for NULL).

        Safe from several threads (as :meth:`run`): they read one after another on the snapshot's connection.
        """
        buffer = io.BytesIO()
        with self._reading:
            self._db.run(f"COPY ({sql}) TO STDOUT", stream=buffer)
        return buffer.getvalue()


def source_key(kwargs: dict[str, Any], schema: str) -> str:
    """What names a source in the checkpoints: server, database and schema, never a password."""
    host = kwargs.get("unix_sock") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"{host}/{kwargs.get('database')}/{schema}"
