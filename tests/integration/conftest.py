"""Integration fixtures: a real LocalStack process, started by the test run itself.

LocalStack 2026.3 runs on the host without Docker from its own Python 3.13
virtualenv (``make localstack-venv``); see README "Local AWS". Each test session
starts one on a free port with its own state directory and stops it at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import free_port
from tests.support.paths import ROOT

LOCALSTACK_PYTHON = Path(os.environ.get("LOCALSTACK_PYTHON", ROOT / ".venv-localstack" / "bin" / "python"))
START_TIMEOUT_SECONDS = 90


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
    port = free_port()
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
