"""``DATABASE_SCHEMA``: the service in a schema of its own, in a database that also holds the module's
Prisma tables (the same table names, in ``public``), reading the main API's ``users`` where they are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.support import legacy_module
from tests.support.api import token_for
from tests.support.database import admin_connection, scratch_database

SCHEMA = "media"


@contextmanager
def service_in_schema(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[None]:
    """Settings and engines pointed at ``url`` with ``DATABASE_SCHEMA``; the test database's restored after."""
    import os

    from chalicelib.config import get_settings
    from chalicelib.db import fastpath
    from chalicelib.db.engine import dispose_engine

    previous = os.environ["DATABASE_URL"]

    def point_at(database: str, schema: str | None) -> None:
        monkeypatch.setenv("DATABASE_URL", database)
        if schema:
            monkeypatch.setenv("DATABASE_SCHEMA", schema)
        else:
            monkeypatch.delenv("DATABASE_SCHEMA", raising=False)
        get_settings.cache_clear()
        dispose_engine()
        fastpath.dispose()

    point_at(url, SCHEMA)
    try:
        yield
    finally:
        point_at(previous, None)


def test_the_service_runs_and_imports_in_its_own_schema_beside_the_modules_tables(
    monkeypatch: pytest.MonkeyPatch, database_url: str, client: Any, resources: dict[str, str]
) -> None:
    from alembic import command

    from chalicelib.db.engine import get_engine
    from chalicelib.services.analytics import folding
    from chalicelib.services.importing.run import Options, run_import

    with scratch_database(database_url, prefix="media_shared") as shared:
        module = admin_connection(shared.url)
        legacy_module.create_schema(module.run)
        legacy_module.fill(module.run, now=datetime.now(UTC))
        with service_in_schema(monkeypatch, shared.url):
            command.upgrade(shared.alembic, "head")
            summary = run_import(Options(source_url=shared.url))
            headers = {"Authorization": f"Bearer {token_for(11)}"}
            expected = legacy_module.module_figures(module.run)
            answers = {
                video_id: client.http.get(f"/api/videos/{video_id}/analytics", headers=headers).json_body
                for video_id in expected
            }
            tracked = client.http.post(
                "/api/track/view", body='{"videoId": 2}', headers={"Content-Type": "application/json"}
            )
            folding.refresh(settle=timedelta(0))
            with get_engine().connect() as connection:
                search_path = connection.execute(text("SHOW search_path")).scalar()
                ours = connection.execute(text("SELECT count(*) FROM video_views")).scalar()
        catalogue = {
            (row[0], row[1]) for row in module.run("SELECT table_schema, table_name FROM information_schema.tables")
        }
        prisma_columns = {row[0] for row in module.run(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'videos'"
        )}  # fmt: skip
        module_views = module.run("SELECT count(*) FROM public.video_views")[0][0]
        partitions = module.run(
            "SELECT count(*) FROM pg_tables WHERE schemaname = :s AND tablename LIKE 'video_views_2%'", s=SCHEMA
        )[0][0]
        module.close()

    assert search_path == f"{SCHEMA}, public"
    for table in ("videos", "video_views", "video_events", "video_schedule_history", "alembic_version"):
        assert (SCHEMA, table) in catalogue
    assert ("public", "alembic_version") not in catalogue
    assert (SCHEMA, "users") not in catalogue  # the main API's users, in public, are the ones used
    assert {"fileSize", "isPublished", "createdAt"} <= prisma_columns  # the module's tables untouched
    assert summary.counts.get("users copied", 0) == 0  # the same rows: nothing to copy
    assert summary.counts["views"] == module_views == 240
    assert tracked.status_code == 200, tracked.body
    assert ours == module_views + 1
    assert partitions > 0  # partition maintenance works in the schema
    for video_id, figures in expected.items():
        assert {key: answers[video_id][key] for key in figures} == figures
