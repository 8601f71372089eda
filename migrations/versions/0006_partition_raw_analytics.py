"""Raw views and events partitioned by month of ``created_at``.

Retention can then drop a whole month (detach, drop) instead of deleting millions of rows
one batch at a time and leaving vacuum to clean up after them. Existing rows are copied
into the new tables (one partition per month that holds any, the current one and the
next two, and a default partition for anything else); ids keep their sequence. The
primary key becomes ``(id, created_at)``: a partitioned table's unique keys must hold its
partition key, and a view is still found by id alone (one index probe per partition).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from datetime import UTC, datetime

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("video_views", "video_events")
FOREIGN_KEYS = {
    "video_views": [
        ("video_views_video_id_fkey", "video_id", "videos", "CASCADE"),
        ("video_views_user_id_fkey", "user_id", "users", "SET NULL"),
    ],
    "video_events": [("video_events_video_id_fkey", "video_id", "videos", "CASCADE")],
}
INDEXES = {
    "video_views": [
        ("video_views_video_created_idx", "(video_id, created_at) INCLUDE (user_id, ip_address)"),
        ("video_views_user_id_idx", "(user_id)"),
        ("video_views_created_at_idx", "(created_at)"),
    ],
    "video_events": [
        ("video_events_video_created_idx", "(video_id, created_at, event_type)"),
        ("video_events_view_id_idx", "(view_id)"),
        ("video_events_created_at_idx", "(created_at)"),
    ],
}
STORAGE = {"video_views": "WITH (fillfactor = 80)", "video_events": ""}
MONTHS_AHEAD = 2


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def _months(table: str) -> list[datetime]:
    """The first instant of every month from the oldest row's to two months from now."""
    now = datetime.now(UTC)
    oldest = op.get_bind().exec_driver_sql(f"SELECT min(created_at) FROM {table}_unpartitioned").scalar()
    first = min(oldest.astimezone(UTC), now) if oldest else now
    month, last = datetime(first.year, first.month, 1, tzinfo=UTC), datetime(now.year, now.month, 1, tzinfo=UTC)
    for _ in range(MONTHS_AHEAD):
        last = _next_month(last)
    starts = []
    while month <= last:
        starts.append(month)
        month = _next_month(month)
    return starts


def _keep_aside(table: str) -> None:
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
    op.execute(f"ALTER TABLE {table}_unpartitioned RENAME CONSTRAINT {table}_pkey TO {table}_unpartitioned_pkey")
    for name, _ in INDEXES[table]:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")


def upgrade() -> None:
    for table in TABLES:
        _keep_aside(table)
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)"
        )
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, created_at)")
        for name, column, target, on_delete in FOREIGN_KEYS[table]:
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target} (id) "
                f"ON DELETE {on_delete}"
            )
        for name, columns in INDEXES[table]:
            op.execute(f"CREATE INDEX {name} ON {table} {columns}")
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT {STORAGE[table]}")
        for start in _months(table):
            end = _next_month(start)
            op.execute(
                f"CREATE TABLE {table}_{start:%Y_%m} PARTITION OF {table} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}') {STORAGE[table]}"
            )
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
        op.execute(f"DROP TABLE {table}_unpartitioned")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
        op.execute(f"ALTER TABLE {table}_partitioned RENAME CONSTRAINT {table}_pkey TO {table}_partitioned_pkey")
        for name, _ in INDEXES[table]:
            op.execute(f"ALTER INDEX {name} RENAME TO {name}_partitioned")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
        op.execute(f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS) {STORAGE[table]}")
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
        for name, column, target, on_delete in FOREIGN_KEYS[table]:
            op.execute(f"ALTER TABLE {table}_partitioned DROP CONSTRAINT {name}")
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target} (id) "
                f"ON DELETE {on_delete}"
            )
        for name, columns in INDEXES[table]:
            op.execute(f"CREATE INDEX {name} ON {table} {columns}")
        op.execute(f"DROP TABLE {table}_partitioned CASCADE")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
