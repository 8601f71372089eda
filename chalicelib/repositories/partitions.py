"""Monthly partitions of the raw analytics tables (``video_views``, ``video_events``).

Each table is partitioned by range of ``created_at``: one partition per UTC month,
named ``<table>_YYYY_MM``, and a ``<table>_default`` partition that catches rows of a
month nobody created (a backdated import, a refresh that has not run for months).
The refresh creates the coming months ahead of time; retention drops whole months
(detach, then drop: no row-by-row delete, no vacuum debt) once they are folded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLES = ("video_views", "video_events")
# Heartbeats update views in place: room on each page keeps those updates HOT.
STORAGE = {"video_views": "WITH (fillfactor = 80)", "video_events": ""}
_MONTHLY = re.compile(r"^(video_views|video_events)_(\d{4})_(\d{2})$")
_PARTITION = re.compile(r"^(video_views|video_events)_(\d{4}_\d{2}|default)$")
# The table the search path finds (``DATABASE_SCHEMA``), not a namesake in another schema.
_CHILDREN = text(
    """
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = CAST(CAST(:table AS text) AS regclass)
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
    """A partition of a raw table: not in the models (Alembic's comparisons skip it)."""
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
    for (name,) in connection.execute(_CHILDREN, {"table": table}):
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
    name, bounds = month.name(table), {"start": month.start, "end": month.end}
    default = f"{table}_default"
    waiting = connection.execute(
        text(f"SELECT 1 FROM {default} WHERE created_at >= :start AND created_at < :end LIMIT 1"), bounds
    ).first()
    range_sql = f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"
    if waiting is None:
        connection.execute(text(f"CREATE TABLE {name} PARTITION OF {table} {range_sql} {STORAGE[table]}"))
        return
    # A partition cannot be created over rows the default partition holds: move them first.
    connection.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS) {STORAGE[table]}"))
    connection.execute(
        text(
            f"""WITH moved AS (DELETE FROM {default} WHERE created_at >= :start AND created_at < :end RETURNING *)
                INSERT INTO {name} SELECT * FROM moved"""
        ),
        bounds,
    )
    connection.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} {range_sql}"))


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
