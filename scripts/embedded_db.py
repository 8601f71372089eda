"""Embedded PostgreSQL for machines with none: a real server from the ``pgserver`` wheel.

``python -m scripts.embedded_db url`` prints the database of a running `make dev`, or
starts the embedded server (data under ``.data/postgres``) if it is not running and
prints a ``DATABASE_URL`` for it. The server keeps
running after this process exits, so `make dev` and `make test` can share it;
``python -m scripts.embedded_db stop`` stops it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Where the embedded server departs from PostgreSQL's defaults. A bulk load (`make import` of a large
# library) writes WAL far faster than 1 GB between checkpoints allows, and after each checkpoint the
# next change to every page logs the whole page again (docs/benchmark.md, Import).
SETTINGS = {"max_wal_size": "4GB"}


def data_dir() -> Path:
    """The server's files: ``.data/postgres`` (under ``MEDIA_API_DATA_DIR`` when that is set)."""
    from scripts.dev_env import data_dir as state_dir

    return state_dir() / "postgres"


def start() -> str:
    """Start (or reuse) the embedded server; return its URL in the unix-socket form."""
    import pgserver

    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(directory), cleanup_mode=None)
    _configure(directory, lambda sql: server.psql(f"\\set ON_ERROR_STOP on\n{sql};\n"))
    return str(server.get_uri())


def _configure(directory: Path, run: Callable[[str], object]) -> None:
    """Apply :data:`SETTINGS` once with ``run`` (one SQL statement at a time): ``ALTER SYSTEM`` keeps them
    in ``postgresql.auto.conf``, and they take effect on a reload.

    ``run`` is the server's own psql, not this service's driver: the service's settings are read once
    per process, and the dev tools that start this server set ``DATABASE_URL`` after it answers.
    """
    auto_conf = directory / "postgresql.auto.conf"
    applied = auto_conf.read_text() if auto_conf.exists() else ""
    missing = {name: value for name, value in SETTINGS.items() if f"{name} = '{value}'" not in applied}
    for name, value in missing.items():
        run(f"ALTER SYSTEM SET {name} = '{value}'")
    if missing:
        run("SELECT pg_reload_conf()")


def server_url() -> str:
    """The server every dev tool uses: ``DATABASE_URL`` when set, else the embedded one."""
    return os.environ.get("DATABASE_URL") or start()


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database (tests and the benchmark make their own)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def stop(wait_seconds: float = 0) -> bool:
    """Fast shutdown (SIGINT to the postmaster; pg_ctl itself refuses to run as root); True if it was running.

    With ``wait_seconds``, wait until it is gone (its pid file removed).
    """
    import signal
    import time

    pid_file = data_dir() / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError):
        return False
    deadline = time.monotonic() + wait_seconds
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "url"
    if command == "url":
        from scripts import dev_env

        # Beside a running `make dev`, the database it serves (which may not be the embedded one).
        sys.stdout.write((dev_env.running().get("DATABASE_URL") or start()) + "\n")
        return 0
    if command == "stop":
        stop()
        return 0
    sys.stderr.write("usage: python -m scripts.embedded_db [url|stop]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
