"""A real `make dev` for the tests: started in a data directory of its own, waited for, talked to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.http import request
from tests.support.paths import ROOT

SHELL_ONLY = {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "PYENV_VERSION", "VIRTUAL_ENV"}
DEADLINE_SECONDS = 180


@contextmanager
def running_dev(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`make dev` with ``env`` (its ``PORT``), until the block ends (killed then if still running)."""
    port = int(env["PORT"])
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["make", "-s", "dev"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until(lambda: _health(process, log, port), "make dev answers")
            yield process
        finally:
            _stop(process)


@contextmanager
def dev_environment(
    database_url: str, data_dir: Path, port: int, prefix: str, **extra: str
) -> Iterator[dict[str, str]]:
    """The environment of a `make dev` of its own: the shell's basics, ``port``, a scratch database on the
    test server (dropped afterwards), ``data_dir`` for its state, no demo library, quiet logs."""
    from tests.support.database import scratch_database

    with scratch_database(database_url, prefix=prefix) as scratch:
        yield dev_shell_environment(data_dir, port, DATABASE_URL=scratch.url, **extra)


def dev_shell_environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """What a shell running `make dev` holds: its basics, ``port``, ``data_dir``, no demo library, quiet logs."""
    env = {name: value for name, value in os.environ.items() if name in SHELL_ONLY}
    return env | {
        "PORT": str(port),
        "MEDIA_API_DATA_DIR": str(data_dir),
        "DEV_DEMO_LIBRARY": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first: `make dev` stops the server it started in a session of its own; SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _health(process: subprocess.Popen[bytes], log: Path, port: int) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"make dev exited:\n{log.read_text()[-3000:]}")
    try:
        return request(f"http://127.0.0.1:{port}", "GET", "/api/health", timeout=5).status == 200
    except OSError:
        return False


def wait_until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting until {what}")


def token(env: dict[str, str]) -> str:
    """A fresh admin token from the running `make dev` (`make token`)."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.dev", "token"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def api(port: int, method: str, path: str, token_value: str, body: Any = None) -> Any:
    answer = request(f"http://127.0.0.1:{port}", method, path, body, headers={"Authorization": f"Bearer {token_value}"})
    assert answer.status == 200, (answer.status, answer.body)
    return answer.body


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as reply:
        return reply.status, str(reply.headers.get("Content-Type")), reply.read()
