"""Integration fixtures: a real LocalStack process, started by the test run itself.

LocalStack 2026.3 runs on the host without Docker from its own Python 3.13
virtualenv (``make localstack-venv``); see README "Local AWS". Each test session
starts one on a free port with its own state directory and stops it at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALSTACK_PYTHON = Path(os.environ.get("LOCALSTACK_PYTHON", ROOT / ".venv-localstack" / "bin" / "python"))
START_TIMEOUT_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LocalStack exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"LocalStack did not become ready in {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def localstack_endpoint() -> Iterator[str]:
    """URL of a LocalStack started for this session (``LOCALSTACK_ENDPOINT`` reuses a running one)."""
    if os.environ.get("LOCALSTACK_ENDPOINT"):
        yield os.environ["LOCALSTACK_ENDPOINT"]
        return
    if not LOCALSTACK_PYTHON.exists():
        raise RuntimeError(f"{LOCALSTACK_PYTHON} is missing: run `make localstack-venv` (make test does)")
    port = _free_port()
    state = Path(tempfile.mkdtemp(prefix="localstack-"))
    log = state / "localstack.log"
    env = {
        **os.environ,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_CLI": "0",
        "LOCALSTACK_VOLUME_DIR": str(state / "volume"),
        "FILESYSTEM_ROOT": str(state / "fs"),
        "SERVICES": "s3,sqs,sns,scheduler,iam,sts,ssm,secretsmanager",
        "EAGER_SERVICE_LOADING": "0",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(LOCALSTACK_PYTHON), "-m", "localstack.runtime.main"],
            cwd=state,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(endpoint, process, log)
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def localstack(localstack_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point every AWS client of the app at the session's LocalStack."""
    from chalicelib.aws import reset_clients
    from chalicelib.config import get_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL", localstack_endpoint)
    get_settings.cache_clear()
    reset_clients()
    yield localstack_endpoint
    reset_clients()


@contextmanager
def chalice_local(env: dict[str, str]) -> Iterator[str]:
    """``chalice local`` (what `make dev` serves) on a free port with ``env``; yields its base URL.

    Autoreload is off so edits to the tree cannot restart it in the middle of a test.
    """
    port = _free_port()
    chalice = Path(sys.executable).parent / "chalice"
    process = subprocess.Popen(
        [str(chalice), "local", "--no-autoreload", "--stage", "local", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answered (503 is still an answer)
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def http_json(url: str, method: str = "GET", body: bytes | None = None, token: str | None = None) -> tuple[int, Any]:
    """One HTTP request with a JSON body; returns the status and the decoded answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
