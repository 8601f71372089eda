"""Monthly partitions of the raw analytics tables (``video_views``, ``video_events``).

Each table is partitioned by range of ``created_at``: one partition per UTC month,
named ``<table>_YYYY_MM``, and a ``<table>_default`` partition that catches rows of a
month nobody created (a backdated import, a refresh that has not run for months).
The refresh creates the coming months ahead of time; retention drops whole months
(detach, then drop: no row-by-row delete, no vacuum debt) once they are folded.

A bulk load (the import) fills the months a table has no partition for yet in a staging
table of the same shape with neither indexes nor foreign keys (``import_staged_<table>``),
whose month partitions are attached to the table once full: PostgreSQL then builds each
index by one sort and checks each foreign key by one join, instead of maintaining four
indexes and firing a trigger row by row. Rows of months the table already has wait in the
staging table's ``_rest`` partition and are inserted at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from chalicelib.db.failures import FOREIGN_KEY_VIOLATION, sqlstate

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLES = ("video_views", "video_events")
# Heartbeats update views in place: room on each page keeps those updates HOT.
STORAGE = {"video_views": "WITH (fillfactor = 80)", "video_events": ""}
_MONTHLY = re.compile(r"^(video_views|video_events)_(\d{4})_(\d{2})$")
_PARTITION = re.compile(r"^(video_views|video_events)_(\d{4}_\d{2}|default)$|^import_staged_(video_views|video_events)")
STAGED = "import_staged_{table}"
# The table the search path finds (``DATABASE_SCHEMA``), not a namesake in another schema.
_CHILDREN = text(
    """
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = CAST(CAST(:table AS text) AS regclass)
    """
)

# The table's own single-column foreign keys: column, referenced table and column, ON DELETE action.
_FOREIGN_KEYS = text(
    """
    SELECT a.attname, CAST(c.confrelid AS regclass)::text, ra.attname, c.confdeltype
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
    WHERE c.conrelid = CAST(CAST(:table AS text) AS regclass) AND c.contype = 'f'
    """
)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
        return cls(day.year, day.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def name(self, table: str) -> str:
        return f"{table}_{self.year:04d}_{self.month:02d}"


def is_partition(table_name: str | None) -> bool:
    """A partition of a raw table or a staging table of a bulk load: not in the models (Alembic's
    comparisons skip it)."""
    return bool(table_name and _PARTITION.match(table_name))


def alembic_include(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
    """Alembic ``include_object``: leave the partitions (and their indexes) out of model comparisons."""
    table = getattr(getattr(obj, "table", None), "name", None) if kind == "index" else name
    return not is_partition(table)


def months(first: Month, last: Month) -> list[Month]:
    found, month = [], first
    while month <= last:
        found.append(month)
        month = month.next()
    return found


def monthly(connection: Connection, table: str) -> dict[Month, str]:
    """The table's monthly partitions, by month."""
    found = {}
    for name in _children(connection, table):
        match = _MONTHLY.match(name)
        if match:
            found[Month(int(match.group(2)), int(match.group(3)))] = name
    return found


def ensure(connection: Connection, wanted: list[Month]) -> list[str]:
    """Create the missing monthly partitions of both tables; rows of those months waiting in the
    default partition move into them. Returns the partitions created."""
    created = []
    for table in TABLES:
        existing = monthly(connection, table)
        for month in wanted:
            if month not in existing:
                _create(connection, table, month)
                created.append(month.name(table))
    return created


def _create(connection: Connection, table: str, month: Month) -> None:
    name = month.name(table)
    if not _holds(connection, f"{table}_default", month):
        connection.execute(text(f"CREATE TABLE {name} PARTITION OF {table} {_bounds(month)} {STORAGE[table]}"))
        return
    connection.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS) {STORAGE[table]}"))
    _take_from_default(connection, table, name, month)
    connection.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} {_bounds(month)}"))


def stage(connection: Connection, table: str, wanted: list[Month]) -> str | None:
    """The staging table a bulk load of ``wanted`` months writes into, or None to write into ``table``.

    Each wanted month the table has no partition for gets one in the staging table; the
    others' rows go to its ``_rest``. Called again (a resumed load), it adds what is missing.
    """
    staging = STAGED.format(table=table)
    existing = monthly(connection, table)
    new = [month for month in wanted if month not in existing]
    if not new and not _exists(connection, staging):
        return None
    connection.execute(
        text(f"CREATE TABLE IF NOT EXISTS {staging} (LIKE {table} INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)")
    )
    connection.execute(text(f"CREATE TABLE IF NOT EXISTS {staging}_rest PARTITION OF {staging} DEFAULT"))
    staged = set(monthly(connection, staging))
    for month in new:
        if month in staged or _holds(connection, f"{staging}_rest", month):
            continue  # rows of this month already wait in _rest (it was the table's when they came)
        connection.execute(
            text(f"CREATE TABLE {month.name(table)} PARTITION OF {staging} {_bounds(month)} {STORAGE[table]}")
        )
    return staging


def staged_months(connection: Connection, table: str) -> list[Month]:
    """The months a bulk load of ``table`` holds in its staging table, oldest first."""
    staging = STAGED.format(table=table)
    return sorted(monthly(connection, staging)) if _exists(connection, staging) else []


def attach_staged(connection: Connection, table: str, month: Month) -> None:
    """Move one staged month into ``table``: its indexes are built and its foreign keys checked once."""
    staging, name = STAGED.format(table=table), month.name(table)
    connection.execute(text(f"ALTER TABLE {staging} DETACH PARTITION {name}"))
    _take_from_default(connection, table, name, month)
    connection.execute(text(f"ANALYZE {name}"))  # the fold's plans read its statistics at once
    _move_staged(connection, table, name, f"ALTER TABLE {table} ATTACH PARTITION {name} {_bounds(month)}")


def finish_staging(connection: Connection, table: str) -> None:
    """Insert the rows waiting in ``_rest`` into ``table`` and drop the staging table."""
    staging = STAGED.format(table=table)
    if not _exists(connection, staging):
        return
    rest = f"{staging}_rest"
    _move_staged(connection, table, rest, f"INSERT INTO {table} SELECT * FROM {rest}")
    connection.execute(text(f"DROP TABLE {staging}"))


def _move_staged(connection: Connection, table: str, staged: str, statement: str) -> None:
    """Run ``statement``, which moves ``staged`` rows into ``table``; if a video or user they refer to was
    deleted since they were copied, they first follow it as the foreign key's ON DELETE says."""
    try:
        with connection.begin_nested():
            connection.execute(text(statement))
            return
    except DBAPIError as exc:
        if exc.orig is None or sqlstate(exc.orig) != FOREIGN_KEY_VIOLATION:
            raise
    _follow_deletes(connection, table, staged)
    connection.execute(text(statement))


def _follow_deletes(connection: Connection, table: str, name: str) -> None:
    """Rows of ``name`` whose referenced row is gone: deleted (``ON DELETE CASCADE``) or unlinked (``SET NULL``)."""
    for column, referenced, key, action in connection.execute(_FOREIGN_KEYS, {"table": table}):
        missing = f"{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {referenced} r WHERE r.{key} = {name}.{column})"
        if action == "c":
            connection.execute(text(f"DELETE FROM {name} WHERE {missing}"))
        elif action == "n":
            connection.execute(text(f"UPDATE {name} SET {column} = NULL WHERE {missing}"))


def _children(connection: Connection, table: str) -> list[str]:
    return [name for (name,) in connection.execute(_CHILDREN, {"table": table})]


def _exists(connection: Connection, table: str) -> bool:
    return connection.execute(text("SELECT to_regclass(:table) IS NOT NULL"), {"table": table}).scalar_one() is True


def _holds(connection: Connection, table: str, month: Month) -> bool:
    found = connection.execute(
        text(f"SELECT 1 FROM {table} WHERE created_at >= :start AND created_at < :end LIMIT 1"),
        {"start": month.start, "end": month.end},
    )
    return found.first() is not None


def _bounds(month: Month) -> str:
    return f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"


def _take_from_default(connection: Connection, table: str, name: str, month: Month) -> None:
    """A partition cannot be attached over rows the default partition holds: move them into it first."""
    connection.execute(
        text(
            f"""WITH moved AS (DELETE FROM {table}_default WHERE created_at >= :start AND created_at < :end RETURNING *)
                INSERT INTO {name} SELECT * FROM moved"""
        ),
        {"start": month.start, "end": month.end},
    )


def drop_before(connection: Connection, before: datetime) -> list[str]:
    """Detach and drop every monthly partition that ends at or before ``before``; return their names."""
    dropped = []
    for table in TABLES:
        for month, name in sorted(monthly(connection, table).items()):
            if month.end <= before:
                connection.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
                connection.execute(text(f"DROP TABLE {name}"))
                dropped.append(name)
    return dropped
