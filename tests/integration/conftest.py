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
from dataclasses import dataclass
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
        # Loopback only (the default twisted server binds 0.0.0.0; the DNS server 0.0.0.0:53).
        "GATEWAY_SERVER": "hypercorn",
        "DNS_ADDRESS": "0",
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
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL", localstack_endpoint)
    get_settings.cache_clear()
    reset_clients()
    yield localstack_endpoint
    reset_clients()


@contextmanager
def local_server(env: dict[str, str], *, log: Path | None = None, own_url: bool = False) -> Iterator[LocalServer]:
    """The local server `make dev` runs (:mod:`scripts.local_server`) on a free port with ``env``.

    Yields a :class:`LocalServer` (``str()`` of it is the base URL); the process runs in
    its own session so a test can count its threads and open files. With ``own_url`` its
    ``MEDIA_API_URL`` is its own base URL, as deployed (the embed page and oEmbed name it).
    """
    port = _free_port()
    if own_url:
        env = {**env, "MEDIA_API_URL": f"http://127.0.0.1:{port}"}
    command = [sys.executable, "-m", "scripts.local_server", "--host", "127.0.0.1", "--port", str(port)]
    output = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = LocalServer(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the local server exited with {process.returncode}")
            try:
                urllib.request.urlopen(f"{server.base}/api/openapi.json", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answered
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        if log:
            output.close()  # type: ignore[union-attr]


@dataclass(frozen=True)
class LocalServer:
    """A running local server: its base URL (also its ``str()``) and its process, for resource counts."""

    base: str
    process: subprocess.Popen[bytes]

    def __str__(self) -> str:
        return self.base

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


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
