"""The embedded server's settings: applied once, kept by the server, and not asked for again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.private_postgres import PrivatePostgres, private_postgres_fixture

private_pg = private_postgres_fixture()


def test_the_settings_are_applied_once_and_kept_across_a_restart(private_pg: PrivatePostgres) -> None:
    from scripts.embedded_db import SETTINGS, _configure

    def run(sql: str) -> None:
        private_pg.query(sql)

    def refuse(sql: str) -> None:
        pytest.fail(f"the settings were asked for again: {sql}")

    assert private_pg.query("SHOW max_wal_size") != [[SETTINGS["max_wal_size"]]]
    _configure(private_pg.data_dir, run)
    assert private_pg.query("SHOW max_wal_size") == [[SETTINGS["max_wal_size"]]]
    private_pg.restart()
    assert private_pg.query("SHOW max_wal_size") == [[SETTINGS["max_wal_size"]]]
    _configure(private_pg.data_dir, refuse)


def test_a_fresh_embedded_server_starts_with_them_and_leaves_the_service_settings_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make dev` starts the server, then sets DATABASE_URL: nothing may have cached the settings before."""
    from chalicelib.config import get_settings
    from scripts import embedded_db
    from tests.support.database import admin_connection

    monkeypatch.setenv("MEDIA_API_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        url = embedded_db.start()
        assert get_settings.cache_info().currsize == 0
        connection = admin_connection(url)
        assert connection.run("SHOW max_wal_size") == [[embedded_db.SETTINGS["max_wal_size"]]]
        connection.close()
    finally:
        embedded_db.stop(wait_seconds=30)
