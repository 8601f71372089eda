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

In a terminal, Ctrl-C reaches these processes and not `make` (:mod:`scripts.foreground`), so
`make dev` stops cleanly and exits 0; `make stop` (SIGTERM) and a closed terminal (SIGHUP) stop it
cleanly too.

The values it chose are recorded in ``.data/dev-env.json`` (:mod:`scripts.dev_env`) so
`make schedules`, `make token` and `make migrate` in another shell use the same ones.
``python -m scripts.dev token`` prints a fresh admin token.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.foreground import own_foreground

if TYPE_CHECKING:
    from scripts.local_media import MediaMirror

ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "media-api-local-dev-secret-do-not-deploy"
SIGNAL_CHECK_SECONDS = 0.2  # how soon the main thread handles a signal another thread received


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
    os.environ.setdefault("LOG_FORMAT", "text")  # lines a person reads; LOG_LEVEL (default INFO) sets how many
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
    from scripts.dev_env import data_dir

    if os.environ.get("DEV_DEMO_LIBRARY", "").strip().lower() in {"0", "false", "no", "off"}:
        return
    added = ensure_demo_library(data_dir() / "demo-media")
    if not added:
        return
    if can_make_clips():
        _say(f"{added} demo videos added (their thumbnails are made by the dispatcher within seconds)")
    else:
        _say(
            f"{added} demo videos added as metadata only: ffmpeg is not installed, so they have no media to play "
            "and no thumbnails (install ffmpeg, e.g. `apt-get install ffmpeg`, delete .data/, run make dev again)"
        )


def prepare_aws() -> MediaMirror | None:
    """The emulator and the service's resources in it; with the embedded one, the media saved under
    ``.data/s3`` put back first (before the bucket notifies the ingest queue) and a mirror to keep it."""
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings
    from scripts import local_aws

    mirror = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's per-request access log
        os.environ["AWS_ENDPOINT_URL"] = local_aws.start_moto_server()
        _say(f"embedded moto server (AWS emulator): {os.environ['AWS_ENDPOINT_URL']}")
        mirror = _restore_media()
    else:
        _say(f"AWS emulator: {os.environ['AWS_ENDPOINT_URL']}")
    get_settings.cache_clear()
    reset_clients()
    for name, value in local_aws.ensure_resources().items():
        os.environ[name] = value
    get_settings.cache_clear()
    reset_clients()
    return mirror


def _restore_media() -> MediaMirror:
    from chalicelib.adapters.aws import client, reset_clients
    from chalicelib.config import get_settings
    from scripts.dev_env import data_dir
    from scripts.local_aws import ensure_bucket
    from scripts.local_media import MediaMirror

    get_settings.cache_clear()
    reset_clients()
    s3, bucket = client("s3"), get_settings().media_bucket
    ensure_bucket(s3, bucket)
    mirror = MediaMirror(s3, bucket, data_dir() / "s3")
    restored = mirror.restore()
    if restored:
        _say(f"{restored} media objects restored into the emulator from .data/s3")
    return mirror


def start_mirror(mirror: MediaMirror, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=mirror.run, args=(stop,), name="media-mirror")
    thread.start()
    return thread


def start_dispatcher(stop: threading.Event) -> threading.Thread:
    from scripts import local_dispatcher

    thread = threading.Thread(target=local_dispatcher.run_forever, args=(stop,), name="dispatcher", daemon=True)
    thread.start()
    _say("local dispatcher running (every 2 s: fires due schedules, ingests uploads; runs @schedule functions)")
    return thread


def serve(port: str) -> int:
    """Run the local server until it exits or we are told to stop (Ctrl-C, SIGTERM or SIGHUP: exit 0).

    Without autoreload (see :mod:`scripts.local_server`): restart `make dev` after changing code.
    """
    command = [sys.executable, "-m", "scripts.local_server", "--host", "127.0.0.1", "--stage", "local"]
    # A session of its own, so stopping us stops all of it.
    process = subprocess.Popen([*command, "--port", port], cwd=ROOT, start_new_session=True)
    try:
        while True:
            # Not one endless wait: Python runs signal handlers in the main thread only, and a Ctrl-C the
            # kernel hands to another thread (the dispatcher's, the mirror's) would wait for this one to
            # wake up (seen once after Ctrl-Z, `bg` and `fg`: Ctrl-C did nothing).
            with contextlib.suppress(subprocess.TimeoutExpired):
                return process.wait(timeout=SIGNAL_CHECK_SECONDS)
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def banner(port: str) -> None:
    base = f"http://127.0.0.1:{port}/api"
    token = admin_token()
    _say(f"admin token (12 h; `make token` prints a fresh one):\n{token}")
    _say(
        f"ready:\n  API        {base}  (try {base}/health)\n  docs       {base}/docs\n"
        f"  dashboard  {base}/dashboard#token={token}\n"
        "  `make stop` (or Ctrl-C) stops it, `make reset` starts again from empty"
    )


def stop_running() -> int:
    """`make stop`: the running `make dev` (SIGTERM, waited for) and the embedded PostgreSQL."""
    import time

    from scripts import dev_env, embedded_db

    pid = dev_env.running_pid()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while dev_env.running_pid() == pid and time.monotonic() < deadline:
            time.sleep(0.2)
        _say(f"make dev (process {pid}) stopped" if dev_env.running_pid() != pid else f"process {pid} did not stop")
    if embedded_db.stop(wait_seconds=30):
        _say("embedded PostgreSQL stopped")
    return 0


def main(argv: list[str]) -> int:
    # SIGHUP too: a closed terminal stops the server, which runs in a session of its own.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _raise_interrupt)
    command = argv[1] if len(argv) > 1 else "serve"
    try:
        if command == "stop":
            return stop_running()
        if command == "token":
            configure_environment()
            sys.stdout.write(admin_token() + "\n")
            return 0
        with own_foreground():  # in a terminal, Ctrl-C reaches us and not make: `make dev` exits 0
            stop_reading_the_terminal()
            return _start_and_serve()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while starting: a clean stop all the same
        return 0


def stop_reading_the_terminal() -> None:
    """Standard input becomes /dev/null for us and all we start: the server, in a session of its own,
    would read the user's keys with no job control to stop it, and a terminal library that chalice
    imports would query the terminal (waiting seconds for answers, and late answers would be typed at
    the shell's prompt)."""
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)


def _start_and_serve() -> int:
    configure_environment()
    port = os.environ.get("PORT", "4100")
    prepare_database()
    mirror = prepare_aws()
    prepare_demo_library()
    from scripts import dev_env

    _say(f"settings recorded for `make schedules`/`make token`/`make migrate`: {dev_env.record(os.getpid())}")
    stop = threading.Event()
    start_dispatcher(stop)
    mirroring = start_mirror(mirror, stop) if mirror else None
    if os.environ["JWT_ACCESS_SECRET"] == DEV_JWT_SECRET:
        _say(f"JWT_ACCESS_SECRET not set: using the development secret {DEV_JWT_SECRET!r}")
    banner(port)
    try:
        return serve(port)
    finally:
        stop.set()
        if mirroring is not None:
            mirroring.join(timeout=60)  # the last mirror: uploads of the last seconds are kept too
        dev_env.forget(os.getpid())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
