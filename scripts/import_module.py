"""`make import`: bring a running Fastify/Prisma module's library and history into this service.

    make import SOURCE_DATABASE_URL=postgresql://... [SOURCE_MEDIA_DIR=/media] [DRY_RUN=1]

Writes into the configured database (``DATABASE_URL``, else the embedded one), or, beside a
running `make dev`, into its database, bucket and Scheduler with no extra environment (the
values it recorded in ``.data/dev-env.json``). ``SOURCE_DATABASE_SCHEMA`` (default ``public``)
is where the module's tables are; with ``DATABASE_SCHEMA`` set and no ``SOURCE_DATABASE_URL``
the module's tables are read from this service's own database. See docs/import.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from scripts.dev import configure_environment

USAGE = "usage: make import SOURCE_DATABASE_URL=postgresql://... [SOURCE_MEDIA_DIR=dir] [DRY_RUN=1]"


class RichProgress:
    """One bar per long step, with its count, rate and time left (rich, on stderr)."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None
        self._unit = ""

    def begin(self, step: str, total: int, unit: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<8}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._progress.start()
        self._unit = unit
        self._task = self._progress.add_task(step, total=total, rate="")

    def advance(self, amount: int) -> None:
        self._progress.advance(self._task, amount)
        speed = self._progress.tasks[0].speed
        self._progress.update(self._task, rate=f"{speed:,.0f} {self._unit}/s" if speed else "")

    def end(self) -> None:
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = f"{task.completed / elapsed:,.0f} {self._unit}/s overall" if elapsed else ""
        self._progress.update(self._task, rate=rate)
        self._progress.stop()


def source_url() -> str:
    """``SOURCE_DATABASE_URL``; with a schema of our own, our database (the module shares it)."""
    url = os.environ.get("SOURCE_DATABASE_URL", "").strip()
    if url:
        return url
    if os.environ.get("DATABASE_SCHEMA", "public").strip() not in ("", "public"):
        return os.environ["DATABASE_URL"]
    raise SystemExit(f"SOURCE_DATABASE_URL is not set\n{USAGE}")


def batch_environment() -> None:
    """An import is a batch job, like the refresh: quiet logs and the refresh's statement timeout."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the ingest's per-video log lines: the bar says it
    # A fold step's statements over a week of a 10M library take longer than a request's 10 s.
    os.environ.setdefault("DATABASE_TIMEOUT_SECONDS", "840")


def main() -> int:
    batch_environment()
    configure_environment()
    from chalicelib.adapters.legacy_module import SourceError
    from chalicelib.domain.errors import DomainError
    from chalicelib.services.importing.run import ImportFailed, Options, run_import
    from scripts.dev import migrate

    media = os.environ.get("SOURCE_MEDIA_DIR", "").strip()
    if media and not Path(media).is_dir():
        raise SystemExit(f"SOURCE_MEDIA_DIR {media!r} is not a directory")
    options = Options(
        source_url=source_url(),
        source_schema=os.environ.get("SOURCE_DATABASE_SCHEMA", "public").strip() or "public",
        media_dir=Path(media) if media else None,
        dry_run=os.environ.get("DRY_RUN", "").strip().lower() in {"1", "true", "yes"},
    )
    if not options.dry_run:
        migrate()
    try:
        summary = run_import(options, RichProgress())
    except (ImportFailed, SourceError, DomainError) as exc:
        sys.stderr.write(f"import failed: {exc}\n(what was imported is kept; run it again to carry on)\n")
        return 1
    sys.stdout.write("\n".join(summary.lines()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
