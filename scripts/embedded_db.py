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

DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "postgres"


def start() -> str:
    """Start (or reuse) the embedded server; return its URL in the unix-socket form."""
    import pgserver

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(DATA_DIR), cleanup_mode=None)
    return str(server.get_uri())


def server_url() -> str:
    """The server every dev tool uses: ``DATABASE_URL`` when set, else the embedded one."""
    return os.environ.get("DATABASE_URL") or start()


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database (tests and the benchmark make their own)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def stop() -> None:
    """Fast shutdown (SIGINT to the postmaster); pg_ctl itself refuses to run as root."""
    import signal

    pid_file = DATA_DIR / "postmaster.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)


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
