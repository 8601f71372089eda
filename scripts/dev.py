"""`make dev`: the whole service on one machine, with no AWS account.

1. PostgreSQL: ``DATABASE_URL`` when set, else the embedded server (``.data/postgres``).
2. Migrations and the dev admin.
3. AWS: ``AWS_ENDPOINT_URL`` when set (e.g. `make localstack`), else an embedded moto
   server; the bucket, schedule group, DLQ and topic are created in it.
4. The local dispatcher in a thread: emulators never fire Scheduler schedules nor
   deliver SQS messages to Lambda, so it fires due schedules, ingests uploads and runs
   every ``@schedule`` function (the analytics refresh at least every minute).
   Before that, a demo library of real clips is uploaded and ingested (once).
5. The local server (:mod:`scripts.local_server`, Chalice's ``chalice local`` with the
   deployed API's answers) on ``http://127.0.0.1:$PORT`` (default 4100).

The values it chose are recorded in ``.data/dev-env.json`` (:mod:`scripts.dev_env`) so
`make schedules`, `make token` and `make migrate` in another shell use the same ones.
``python -m scripts.dev token`` prints a fresh admin token.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "media-api-local-dev-secret-do-not-deploy"


def _say(message: str) -> None:
    sys.stderr.write(f"[dev] {message}\n")
    sys.stderr.flush()


# Vite's dev server: a frontend developer's page may call the local API.
DEV_CORS_ORIGINS = "http://localhost:5173,http://127.0.0.1:5173"


def configure_environment() -> None:
    """Fill the variables a bare machine lacks; everything already set wins, then a running `make dev`'s."""
    from scripts import dev_env

    dev_env.apply()
    os.environ.setdefault("JWT_ACCESS_SECRET", DEV_JWT_SECRET)
    os.environ.setdefault("CORS_ALLOWED_ORIGINS", DEV_CORS_ORIGINS)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
    os.environ.setdefault("MEDIA_API_URL", f"http://127.0.0.1:{os.environ.get('PORT', '4100')}")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    if not os.environ.get("DATABASE_URL"):
        from scripts.embedded_db import start

        os.environ["DATABASE_URL"] = start()
        _say(f"embedded PostgreSQL: {os.environ['DATABASE_URL']}")


def admin_token() -> str:
    from chalicelib.config import get_settings
    from chalicelib.services.auth import issue_access_token
    from scripts.demo_data import DEV_ADMIN_ID

    get_settings.cache_clear()
    return issue_access_token(DEV_ADMIN_ID, "SUPER_ADMIN", ttl_seconds=12 * 3600)


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")


def prepare_database() -> None:
    from scripts.demo_data import ensure_admin

    migrate()
    ensure_admin()
    _say("migrations applied")


def prepare_demo_library() -> None:
    """Playable demo clips in the emulator's bucket (once the AWS side exists), ingested like uploads."""
    from scripts.demo_data import can_make_clips, ensure_demo_library

    added = ensure_demo_library(ROOT / ".data" / "demo-media")
    if not added:
        return
    if can_make_clips():
        _say(f"{added} demo videos added (their thumbnails are made by the dispatcher within seconds)")
    else:
        _say(
            f"{added} demo videos added as metadata only: ffmpeg is not installed, so they have no media to play "
            "and no thumbnails (install ffmpeg, e.g. `apt-get install ffmpeg`, delete .data/, run make dev again)"
        )


def prepare_aws() -> None:
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings
    from scripts import local_aws

    if not os.environ.get("AWS_ENDPOINT_URL"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's per-request access log
        os.environ["AWS_ENDPOINT_URL"] = local_aws.start_moto_server()
        _say(f"embedded moto server (AWS emulator): {os.environ['AWS_ENDPOINT_URL']}")
    else:
        _say(f"AWS emulator: {os.environ['AWS_ENDPOINT_URL']}")
    get_settings.cache_clear()
    reset_clients()
    for name, value in local_aws.ensure_resources().items():
        os.environ[name] = value
    get_settings.cache_clear()
    reset_clients()


def start_dispatcher(stop: threading.Event) -> threading.Thread:
    from scripts import local_dispatcher

    thread = threading.Thread(target=local_dispatcher.run_forever, args=(stop,), name="dispatcher", daemon=True)
    thread.start()
    _say("local dispatcher running (every 2 s: fires due schedules, ingests uploads; runs @schedule functions)")
    return thread


def serve(port: str) -> int:
    """Run the local server until it exits or we are told to stop.

    Without autoreload (see :mod:`scripts.local_server`): restart `make dev` after changing code.
    """
    command = [sys.executable, "-m", "scripts.local_server", "--host", "127.0.0.1", "--stage", "local"]
    # Its own process group, so stopping us (Ctrl-C or SIGTERM) stops all of it.
    process = subprocess.Popen([*command, "--port", port], cwd=ROOT, start_new_session=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGTERM)
        return process.wait(timeout=15)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    configure_environment()
    if len(argv) > 1 and argv[1] == "token":
        sys.stdout.write(admin_token() + "\n")
        return 0
    port = os.environ.get("PORT", "4100")
    prepare_database()
    prepare_aws()
    prepare_demo_library()
    from scripts import dev_env

    _say(f"settings recorded for `make schedules`/`make token`/`make migrate`: {dev_env.record(os.getpid())}")
    stop = threading.Event()
    start_dispatcher(stop)
    if os.environ["JWT_ACCESS_SECRET"] == DEV_JWT_SECRET:
        _say(f"JWT_ACCESS_SECRET not set: using the development secret {DEV_JWT_SECRET!r}")
    _say(f"admin token (12 h; `make token` prints a fresh one):\n{admin_token()}")
    _say(f"serving http://127.0.0.1:{port}/api (try /api/health)")
    try:
        return serve(port)
    finally:
        stop.set()
        dev_env.forget(os.getpid())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
