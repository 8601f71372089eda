"""The environment of a running `make dev`, recorded under ``.data/`` for the tools beside it.

`make dev` picks an embedded database, a free port for its moto server and a dev JWT
secret; `make schedules`, `make token` and `make migrate` run in other shells and
need the same values. :func:`record` writes them (mode 0600) with the server's process
id; :func:`apply` fills any of them the caller's environment lacks, but only while
that process is alive, so a stale file from a stopped `make dev` is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDED = (
    "DATABASE_URL",
    "JWT_ACCESS_SECRET",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "MEDIA_API_URL",
    "MEDIA_BUCKET",
    "MEDIA_QUEUE_PREFIX",
    "VIDEO_SCHEDULE_GROUP",
    "VIDEO_SCHEDULE_TARGET_ARN",
    "VIDEO_SCHEDULE_ROLE_ARN",
    "VIDEO_SCHEDULE_DLQ_ARN",
    "VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN",
)


def data_dir() -> Path:
    """Where `make dev` keeps its state: ``.data/`` (``MEDIA_API_DATA_DIR`` moves it, so tests never
    touch a developer's database, media or record)."""
    return Path(os.environ.get("MEDIA_API_DATA_DIR") or ROOT / ".data")


def env_file() -> Path:
    """Where the record lives (``MEDIA_API_DEV_ENV_FILE``, else ``dev-env.json`` in :func:`data_dir`)."""
    return Path(os.environ.get("MEDIA_API_DEV_ENV_FILE") or data_dir() / "dev-env.json")


def record(pid: int) -> Path:
    """Write the current values of :data:`RECORDED` for the `make dev` running as ``pid``."""
    path = env_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {name: os.environ[name] for name in RECORDED if os.environ.get(name)}
    path.write_text(json.dumps({"pid": pid, "env": values}, indent=2))
    path.chmod(0o600)
    return path


def forget(pid: int) -> None:
    """Remove the record if it is ours (a second `make dev` may have replaced it)."""
    if _read().get("pid") == pid:
        env_file().unlink(missing_ok=True)


def running_pid() -> int | None:
    """The process id of the running `make dev` that wrote the record, if it is still alive."""
    pid = _read().get("pid")
    return pid if isinstance(pid, int) and _alive(pid) else None


def running() -> dict[str, str]:
    """The recorded values, if the `make dev` that wrote them is still running."""
    data = _read()
    pid = data.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return {}
    env = data.get("env")
    return {str(key): str(value) for key, value in env.items()} if isinstance(env, dict) else {}


def apply() -> dict[str, str]:
    """Fill missing variables from a running `make dev`; return what was filled."""
    filled = {name: value for name, value in running().items() if not os.environ.get(name)}
    os.environ.update(filled)
    return filled


def _read() -> dict[str, object]:
    try:
        data = json.loads(env_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> None:
    """``python -m scripts.dev_env``: print ``export`` lines for a running `make dev`."""
    for name, value in running().items():
        print(f"export {name}={value}")


if __name__ == "__main__":
    main()
