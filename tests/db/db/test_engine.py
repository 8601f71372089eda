"""The engine on real PostgreSQL: pooled connections that survive a restart, the reader and the writer,
and report snapshots that leave their connection as they found it."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from chalicelib.db.engine import get_engine, session_scope
from tests.support.database import scratch_database


def test_pooled_connection_survives_a_database_restart_of_its_session() -> None:
    """pool_pre_ping: a connection killed server-side (restart, proxy idle cut) is replaced transparently."""
    with session_scope() as session:
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with get_engine().begin() as connection:
        connection.execute(text("SELECT 1"))
    admin_engine = create_engine(get_engine().url, poolclass=None)
    with admin_engine.begin() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :p"), {"p": backend}
        )
    admin_engine.dispose()
    with session_scope() as session:
        assert session.execute(text("SELECT 41 + 1")).scalar_one() == 42


def test_the_reader_url_is_the_writers_with_the_reader_host(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from chalicelib.config import get_settings
    from chalicelib.db.engine import reader_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://media:s3cret@writer.internal:6432/media?sslmode=require")
    monkeypatch.setenv("DATABASE_READER_HOST", "reader.internal")
    get_settings.cache_clear()
    assert reader_url() == "postgresql://media:s3cret@reader.internal:6432/media?sslmode=require"
    monkeypatch.setenv("DATABASE_READER_URL", "postgresql://ro@replica/media")
    get_settings.cache_clear()
    assert reader_url() == "postgresql://ro@replica/media"
    monkeypatch.delenv("DATABASE_READER_URL")
    monkeypatch.delenv("DATABASE_READER_HOST")
    monkeypatch.setenv("DATABASE_URL", database_url)  # the test database again, for the cleanup
    get_settings.cache_clear()
    assert reader_url() is None


def test_analytics_reports_read_from_the_reader_and_writes_stay_on_the_writer(
    database_url: str, monkeypatch: pytest.MonkeyPatch, client: Any, admin_headers: dict[str, str]
) -> None:
    """The reader here is another database holding other rows, so where each statement went shows."""
    from chalicelib.config import get_settings
    from chalicelib.db.engine import dispose_engine
    from tests.support.analytics import add_view, report
    from tests.support.database import sql

    [(video_id,)] = sql(
        "INSERT INTO videos (filename, duration, file_size, width, height, orientation, quality, is_published) "
        "VALUES ('r.mp4', 60, 1, 2, 2, 'H', 'SD', true) RETURNING id"
    )
    add_view(video_id)
    with scratch_database(database_url) as reader:
        command.upgrade(reader.alembic, "head")
        with reader.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO videos (id, filename, duration, file_size, width, height, orientation, quality, "
                    "is_published) VALUES (:id, 'r.mp4', 60, 1, 2, 2, 'H', 'SD', true)"
                ),
                {"id": video_id},
            )
            connection.execute(
                text("INSERT INTO video_views (video_id) SELECT :id FROM generate_series(1, 3)"), {"id": video_id}
            )
        monkeypatch.setenv("DATABASE_READER_URL", reader.url)
        get_settings.cache_clear()
        dispose_engine()
        try:
            assert report(client, admin_headers, f"/api/videos/{video_id}/analytics")["totalViews"] == 3
            tracked = client.http.post(
                "/api/track/view", headers={"Content-Type": "application/json"}, body=f'{{"videoId": {video_id}}}'
            )
            assert tracked.status_code == 200
            assert sql("SELECT count(*) FROM video_views") == [(2,)]  # the writer got the view
        finally:
            dispose_engine()
            monkeypatch.delenv("DATABASE_READER_URL")
            get_settings.cache_clear()


def test_report_snapshots_are_repeatable_read_without_jit_or_workers_and_leave_the_connection_as_it_was() -> None:
    """JIT compiling cost report queries 50-100 ms each, parallel workers 20-30 ms (see ``snapshot``);
    the settings are the transaction's own, so the pooled connection goes back with the server's defaults."""
    from chalicelib.db.engine import snapshot

    tuned = ("jit", "max_parallel_workers_per_gather")
    with snapshot() as connection:
        assert connection.execute(text("SHOW transaction_isolation")).scalar() == "repeatable read"
        assert connection.execute(text("SHOW jit")).scalar() == "off"
        assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
    with get_engine().connect() as connection:
        for name in tuned:
            server_default = connection.execute(
                text("SELECT reset_val FROM pg_settings WHERE name = :name"), {"name": name}
            ).scalar()
            assert connection.execute(text(f"SHOW {name}")).scalar() == server_default
        assert connection.execute(text("SHOW transaction_isolation")).scalar() == "read committed"


def test_dates_and_timestamps_read_as_pg8000_reads_them() -> None:
    """Read with ``fromisoformat`` rather than pg8000's ``strptime``: the same values, and the ones
    ``fromisoformat`` cannot take (infinity, BC, beyond year 9999) still answered as pg8000 answers them."""
    from datetime import UTC, date, datetime, timedelta

    with get_engine().connect() as connection:
        row = connection.execute(
            text(
                """SELECT DATE '2026-12-05', DATE '0044-03-15', DATE 'infinity', DATE '0044-03-15 BC',
                          TIMESTAMP '2026-12-05 01:17:16.5', TIMESTAMP '2026-12-05 01:17:16',
                          TIMESTAMPTZ '2026-12-05 01:17:16.698362+00', TIMESTAMPTZ '-infinity'"""
            )
        ).one()
    assert row[:4] == (date(2026, 12, 5), date(44, 3, 15), "infinity", "0044-03-15 BC")
    assert row[4:6] == (datetime(2026, 12, 5, 1, 17, 16, 500000), datetime(2026, 12, 5, 1, 17, 16))
    assert row[6:] == (datetime(2026, 12, 5, 1, 17, 16, 698362, tzinfo=UTC), "-infinity")
    with get_engine().begin() as connection:
        connection.execute(text("SET LOCAL TIME ZONE 'Asia/Kolkata'"))
        kolkata = connection.execute(text("SELECT TIMESTAMPTZ '2026-12-05 01:17:16+00'")).scalar_one()
    assert kolkata == datetime(2026, 12, 5, 1, 17, 16, tzinfo=UTC)
    assert kolkata.utcoffset() == timedelta(hours=5, minutes=30)
