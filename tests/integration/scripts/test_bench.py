"""`make bench` still runs end to end (on a tiny library), and ``--reuse`` measures a kept database again.

It times nothing: the figures are the bench's to print, not the suite's to judge.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tests.support.database import admin_connection, server_url
from tests.support.paths import ROOT

SECTIONS = (
    "1. Tracking",
    "2. Analytics",
    "3. Unique viewers",
    "4. Seed approach",
    "5. Listing",
    "6. Retention",
    "7. Player",
    "8. Media",
)
TINY = ["--views", "3000", "--events", "6000", "--videos", "20", "--requests", "20", "--samples", "2"]


def _bench(*args: str) -> str:
    env = {**os.environ, "DATABASE_URL": server_url()}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.bench", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _databases() -> set[str]:
    connection = admin_connection(server_url())
    try:
        return {row[0] for row in connection.run("SELECT datname FROM pg_database")}
    finally:
        connection.close()


def test_the_bench_prints_every_section_and_reuse_measures_the_kept_database_again() -> None:
    name = f"media_bench_{uuid.uuid4().hex[:8]}"
    try:
        printed = _bench(
            *TINY, "--days", "70", "--tail-views", "20", "--database", name, "--keep", "--media-seconds", "2"
        )
        for section in SECTIONS:
            assert section in printed, printed
        assert "dropped video_views_" in printed  # retention at half the history drops whole months
        again = _bench(
            "--database", name, "--reuse", "--samples", "2", "--requests", "20", "--tail-views", "5",
            "--no-player", "--no-media",
        )  # fmt: skip
        assert "reusing a kept database" in again and "live (library)" in again, again
        assert "3. Unique viewers: not compared" in again  # the first run's retention dropped months
    finally:
        connection = admin_connection(server_url())
        connection.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()
    assert name not in _databases()


def test_without_keep_the_bench_drops_its_database() -> None:
    name = f"media_bench_{uuid.uuid4().hex[:8]}"
    _bench(*TINY, "--days", "10", "--tail-views", "5", "--database", name, "--no-player", "--no-media")
    assert name not in _databases()
