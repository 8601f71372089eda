"""Real PostgreSQL for the tests: a migrated database per test session, scratch databases,
emptying the tables between tests, users, and plain SQL.

The server is the one ``DATABASE_URL`` names (CI: 127.0.0.1:5432), else the embedded
one; each session (each xdist worker) creates and drops its own database, so runs never
see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pg8000.native

from scripts.embedded_db import start, with_database

# Read before any test changes the environment (every test runs with DATABASE_URL pointing nowhere
# until its tier gives it a database).
_SERVER_URL = os.environ.get("DATABASE_URL")

# Every table a test may write, children before the tables they reference (users last: schedule
# history refers to it without a cascade).
TABLES = (
    "video_events",
    "video_views",
    "video_schedule_history",
    "ingest_failures",
    "analytics_hours",
    "analytics_days",
    "analytics_referrers",
    "analytics_referrer_days",
    "analytics_totals",
    "analytics_measure_hours",
    "analytics_breakdown_days",
    "analytics_breakdown_totals",
    "analytics_breakdown_blocks",
    "analytics_state",
    "analytics_audience_days",
    "analytics_zones",
    "rate_limit_counters",
    "import_checkpoints",
    "import_ids",
    "visitor_salts",
    "video_tombstones",
    "videos",
    "users",
)


def server_url() -> str:
    """The PostgreSQL server the tests use: ``DATABASE_URL`` as the run started, else the embedded one."""
    return _SERVER_URL or start()


def admin_connection(url: str) -> pg8000.native.Connection:
    """A plain autocommitted connection, for CREATE/DROP DATABASE."""
    from chalicelib.db.engine import pg8000_connect_kwargs

    return pg8000.native.Connection(**pg8000_connect_kwargs(url))


@contextmanager
def migrated_database() -> Iterator[str]:
    """A fresh database on the test server, migrated to head; dropped afterwards. Yields its URL."""
    from alembic import command
    from alembic.config import Config

    server = server_url()
    name = f"media_test_{uuid.uuid4().hex[:12]}"
    admin = admin_connection(server)
    admin.run(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    try:
        config = Config("alembic.ini")
        config.attributes["database_url"] = url
        command.upgrade(config, "head")
        yield url
    finally:
        from chalicelib.db.engine import dispose_engine

        dispose_engine()
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass(frozen=True)
class ScratchDatabase:
    """An unmigrated database of its own (migration tests), with an engine and an Alembic config on it."""

    url: str
    engine: Any
    alembic: Any


@contextmanager
def scratch_database(server: str, prefix: str = "media_scratch") -> Iterator[ScratchDatabase]:
    """An empty database of its own on ``server`` (a URL of any database there); dropped afterwards."""
    from alembic.config import Config
    from sqlalchemy import create_engine

    from chalicelib.db.engine import to_sqlalchemy_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = admin_connection(server)
    admin.run(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    engine = create_engine(to_sqlalchemy_url(url))
    config = Config("alembic.ini")
    config.attributes["database_url"] = url
    try:
        yield ScratchDatabase(url, engine, config)
    finally:
        engine.dispose()
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def empty_tables() -> None:
    """Empty every table and restart its ids, as a test found them (with the UTC zone row migration
    0004 leaves). DELETE, not TRUNCATE: on tables this small it is a tenth of the time, because
    TRUNCATE makes new files for every table and partition."""
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        for table in TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
        sequences = connection.execute(
            text("SELECT schemaname, sequencename FROM pg_sequences WHERE schemaname = current_schema()")
        ).all()
        for schema, sequence in sequences:
            connection.execute(text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART'))
        connection.execute(text("INSERT INTO analytics_zones (zone) VALUES ('UTC')"))


def sql(statement: str, **params: Any) -> list[Any]:
    """Run one statement in its own transaction on the app's engine; the rows it returned."""
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result.all()) if result.returns_rows else []


def make_user(
    user_id: int | None = None, role: str = "SUPER_ADMIN", email: str | None = None, name: str | None = None
) -> int:
    """A row in ``users`` (the main API's table); with ``user_id``, that id (kept if it exists)."""
    if user_id is None:
        rows = sql(
            "INSERT INTO users (email, name, role) VALUES (:e, :n, :r) RETURNING id",
            e=email or f"{uuid.uuid4().hex[:8]}@example.test",
            n=name,
            r=role,
        )
        return int(rows[0][0])
    sql(
        "INSERT INTO users (id, email, name, role) VALUES (:i, :e, :n, :r) ON CONFLICT (id) DO NOTHING",
        i=user_id,
        e=email or f"user{user_id}@example.test",
        n=name,
        r=role,
    )
    sql("SELECT setval('users_id_seq', GREATEST((SELECT max(id) FROM users), 1))")
    return user_id
