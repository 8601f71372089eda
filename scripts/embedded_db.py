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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


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
    return str(server.get_uri())


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
