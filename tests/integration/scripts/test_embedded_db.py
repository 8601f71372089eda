"""The embedded server's settings: applied once, kept by the server, and not asked for again."""

from __future__ import annotations

from tests.support.private_postgres import PrivatePostgres, private_postgres_fixture

private_pg = private_postgres_fixture()


def test_the_settings_are_applied_once_and_kept_across_a_restart(private_pg: PrivatePostgres) -> None:
    from scripts.embedded_db import SETTINGS, _configure

    assert private_pg.query("SHOW max_wal_size") != [[SETTINGS["max_wal_size"]]]
    _configure(private_pg.url, private_pg.data_dir)
    assert private_pg.query("SHOW max_wal_size") == [[SETTINGS["max_wal_size"]]]
    private_pg.restart()
    assert private_pg.query("SHOW max_wal_size") == [[SETTINGS["max_wal_size"]]]
    # Once they are in its configuration, the server is not connected to (this URL leads nowhere).
    _configure("postgresql://postgres@127.0.0.1:1/postgres", private_pg.data_dir)
