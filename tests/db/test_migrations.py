"""Schema and migrations: models in step with the migrated schema, the main API's ``users`` table
left alone, timestamps with time zones, and data migrations that keep what they must."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from chalicelib.db.engine import get_engine
from chalicelib.db.models import Base
from chalicelib.repositories.partitions import alembic_include
from tests.support.database import scratch_database


def test_models_match_the_migrated_schema() -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": alembic_include})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrations_keep_an_existing_users_table_and_round_trip(database_url: str) -> None:
    """The main API owns ``users``: an existing table (with its rows) survives upgrade and downgrade."""
    with scratch_database(database_url) as scratch:
        with scratch.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, name text, "
                    "role text NOT NULL DEFAULT 'USER', created_at timestamptz NOT NULL DEFAULT now(), extra text)"
                )
            )
            connection.execute(text("INSERT INTO users (email, extra) VALUES ('main@api.test', 'kept')"))
        command.upgrade(scratch.alembic, "head")
        command.downgrade(scratch.alembic, "base")
        command.upgrade(scratch.alembic, "head")
        with scratch.engine.connect() as connection:
            assert connection.execute(text("SELECT extra FROM users")).scalar_one() == "kept"
            tables = set(
                connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            )
        assert {"videos", "video_views", "video_events", "video_schedule_history", "users"} <= tables


def test_only_the_rate_limit_counters_are_unlogged() -> None:
    """Counters worthless a minute later skip the WAL; every other table is crash-safe."""
    with get_engine().connect() as connection:
        unlogged = set(
            connection.execute(
                text("SELECT relname FROM pg_class WHERE relpersistence = 'u' AND relkind IN ('r', 'p')")
            ).scalars()
        )
    assert unlogged == {"rate_limit_counters"}
    created = str(CreateTable(Base.metadata.tables["rate_limit_counters"]).compile(dialect=postgresql.dialect()))
    assert created.strip().startswith("CREATE UNLOGGED TABLE")


def test_times_are_timestamptz() -> None:
    with get_engine().connect() as connection:
        types = dict(
            connection.execute(
                text(
                    "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                    "WHERE column_name LIKE '%\\_at' OR column_name IN ('scheduled_for')"
                )
            ).all()
        )
    assert types
    assert set(types.values()) == {"timestamp with time zone"}, types


def test_the_referrer_migration_strips_query_strings_already_stored(database_url: str) -> None:
    """Rows stored before referrer privacy lose their query strings; roll-ups merge under the cleaned key."""
    with scratch_database(database_url) as scratch:
        command.upgrade(scratch.alembic, "0001")
        with scratch.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO videos (id, filename, duration, file_size, width, height, orientation, quality) "
                    "VALUES (1, 'a.mp4', 10, 1, 2, 2, 'H', 'SD')"
                )
            )
            for referer in (
                "https://blog.example/post?session=abc#top",
                "https://user:secret@blog.example/post",
                "https://blog.example/post",
                "android-app://com.example",
            ):
                connection.execute(text("INSERT INTO video_views (video_id, referer) VALUES (1, :r)"), {"r": referer})
                connection.execute(
                    text(
                        "INSERT INTO video_daily_referrers (video_id, day, referer, views) "
                        "VALUES (1, '2026-11-01', :r, 2)"
                    ),
                    {"r": referer},
                )
        command.upgrade(scratch.alembic, "0002")
        with scratch.engine.connect() as connection:
            views = sorted(connection.execute(text("SELECT referer FROM video_views")).scalars(), key=str)
            rolled = connection.execute(text("SELECT referer, views FROM video_daily_referrers")).all()
    assert views == [None] + ["https://blog.example/post"] * 3  # str(None) sorts first
    assert [tuple(row) for row in rolled] == [("https://blog.example/post", 6)]


def test_the_hourly_analytics_migration_keeps_folded_days_whose_raw_rows_are_gone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days before the oldest raw row survive as 00:00 UTC hours; later days are folded anew from raw rows."""
    from datetime import UTC, date, datetime, timedelta

    from chalicelib.config import get_settings
    from chalicelib.db.engine import dispose_engine
    from chalicelib.services.analytics import folding, reports

    with scratch_database(database_url) as scratch:
        command.upgrade(scratch.alembic, "0003")
        with scratch.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO videos (id, filename, duration, file_size, width, height, orientation, quality) "
                    "VALUES (1, 'a.mp4', 10, 1, 2, 2, 'H', 'SD')"
                )
            )
            rollup = (
                "INSERT INTO video_daily_rollups (video_id, day, views, unique_viewers, watch_time_seconds, "
                "play_events) VALUES (1, :day, :views, :viewers, 100, 1)"
            )
            connection.execute(text(rollup), {"day": date(2026, 1, 1), "views": 5, "viewers": 4})
            connection.execute(text(rollup), {"day": date(2026, 2, 1), "views": 2, "viewers": 2})  # raw rows exist
            connection.execute(
                text(
                    "INSERT INTO video_daily_referrers (video_id, day, referer, views) "
                    "VALUES (1, '2026-01-01', 'https://old.example/', 5)"
                )
            )
            for ip in ("a", "b"):
                connection.execute(
                    text("INSERT INTO video_views (video_id, ip_address, created_at) VALUES (1, :ip, :at)"),
                    {"ip": ip, "at": datetime(2026, 2, 1, 12, tzinfo=UTC)},
                )
        command.upgrade(scratch.alembic, "head")
        with scratch.engine.connect() as connection:
            hours = connection.execute(
                text("SELECT scope_id, hour, views, viewers FROM analytics_hours ORDER BY 1")
            ).all()
            floor = connection.execute(text("SELECT at FROM analytics_state WHERE name = 'fold_floor'")).scalar_one()
        assert [tuple(row) for row in hours] == [
            (0, datetime(2026, 1, 1, tzinfo=UTC), 5, 4),
            (1, datetime(2026, 1, 1, tzinfo=UTC), 5, 4),
        ]
        assert floor == datetime(2026, 2, 1, tzinfo=UTC)

        monkeypatch.setenv("DATABASE_URL", scratch.url)
        get_settings.cache_clear()
        dispose_engine()
        try:
            folding.refresh(settle=timedelta(0))
            window = reports.Window(date(2026, 1, 1), date(2026, 2, 1))
            report = reports.video_report(1, window)
        finally:
            dispose_engine()
            monkeypatch.setenv("DATABASE_URL", database_url)
            get_settings.cache_clear()
        assert (report.series.figures.views, report.series.figures.events[0]) == (7, 1)
        by_day = {point.span.label: (point.figures.views, point.viewers.viewers) for point in report.series.points}
        assert (by_day[date(2026, 1, 1)], by_day[date(2026, 2, 1)]) == ((5, 4), (2, 2))
        assert report.referrers == [("https://old.example/", 5)]
        command.downgrade(scratch.alembic, "0003")
        with scratch.engine.connect() as connection:
            rows = connection.execute(text("SELECT day, views FROM video_daily_rollups ORDER BY day")).all()
        assert [tuple(row) for row in rows] == [(date(2026, 1, 1), 5), (date(2026, 2, 1), 2)]


STORED_BEFORE_THE_PATH_RULE = (
    "https://shop.example/app;jsessionid=1A2B3C4D/watch",
    "https://mail.example/unsubscribe/ann@mail.example",
    "https://site.example/u/ann%40mail.example/videos",
    "https://media.example/api/videos/preview/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl",
    "https://site.example/reset/3f2a9b7c1d0e4f5a6b7c8d9e0f1a2b3c",
    "https://site.example/v/123e4567-e89b-12d3-a456-426614174000/x",
    "https://site.example/share/clip_Zk3mQ9xW2pL7vB4nT8/",
    "https://blog.example/2024/05/17/best-videos-of-2024-part-2",
    "https://x.example/someone/status/1790000000000000000",
    "https://video.example/@channel/videos",
    "https://shop.example/app",
    "https://blog.example/",
)


def test_the_referrer_path_migration_applies_the_path_rule_to_what_is_stored(database_url: str) -> None:
    """Raw views are cleaned as new ones are (the SQL twin agrees with the Python rule on every case), and the
    referrer roll-ups merge under the cleaned key."""
    from chalicelib.services.privacy import stored_referrer

    with scratch_database(database_url) as scratch:
        command.upgrade(scratch.alembic, "0011")
        with scratch.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO videos (id, filename, duration, file_size, width, height, orientation, quality) "
                    "VALUES (1, 'videos/a.mp4', 10, 1, 2, 2, 'H', 'SD')"
                )
            )
            for referer in STORED_BEFORE_THE_PATH_RULE:
                connection.execute(text("INSERT INTO video_views (video_id, referer) VALUES (1, :r)"), {"r": referer})
            for table, period, at in (
                ("analytics_referrers", "hour", "2026-11-01T10:00Z"),
                ("analytics_referrer_days", "day", "2026-11-01"),
            ):
                for referer, views in (
                    ("https://shop.example/app;jsessionid=1A2B3C4D/watch", 2),
                    ("https://shop.example/app;jsessionid=9Z8Y7X6W/watch", 3),
                    ("https://shop.example/app/watch", 4),
                ):
                    connection.execute(
                        text(
                            f"INSERT INTO {table} (video_id, {period}, team, referer, views) "
                            "VALUES (1, :at, false, :r, :v)"
                        ),
                        {"at": at, "r": referer, "v": views},
                    )
        command.upgrade(scratch.alembic, "0012")
        with scratch.engine.connect() as connection:
            views = connection.execute(text("SELECT referer FROM video_views ORDER BY id")).scalars().all()
            rolled = [
                connection.execute(text(f"SELECT referer, views FROM {table}")).all()
                for table in ("analytics_referrers", "analytics_referrer_days")
            ]
    assert views == [stored_referrer(referer) for referer in STORED_BEFORE_THE_PATH_RULE]
    assert [[tuple(row) for row in rows] for rows in rolled] == [[("https://shop.example/app/watch", 9)]] * 2
