"""The app served by ``chalice local`` (what `make dev` runs), over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_ENV, json_body, make_user, token_for, video_payload
from tests.integration.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]


def _request(url: str, method: str = "GET", body: bytes | None = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def served(database_url: str, localstack: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url, "AWS_ENDPOINT_URL": localstack}
    chalice = Path(sys.executable).parent / "chalice"
    process = subprocess.Popen(
        [str(chalice), "local", "--no-autoreload", "--stage", "local", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
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


def test_chalice_local_serves_the_api_under_the_api_prefix(served: str) -> None:
    status, health = _request(f"{served}/api/health")
    assert status == 200
    assert health["database"]["status"] == "up"

    admin = make_user(role="SUPER_ADMIN")
    status, created = _request(
        f"{served}/api/videos", "POST", json_body(video_payload(filename="local/clip.mp4")), token_for(admin)
    )
    assert status == 201
    assert created["filename"] == "local/clip.mp4"

    status, listing = _request(f"{served}/api/videos?limit=5", token=token_for(admin))
    assert status == 200
    assert [video["id"] for video in listing["videos"]] == [created["id"]]

    status, error = _request(f"{served}/api/videos/abc")
    assert (status, error["error"]) == (400, "BadRequest")
    status, error = _request(f"{served}/api/videos", "POST", b"{}")
    assert (status, error["error"]) == (401, "Unauthorized")


def test_cors_preflight_is_answered(served: str) -> None:
    request = urllib.request.Request(
        f"{served}/api/videos",
        method="OPTIONS",
        headers={"Origin": "https://admin.example.test", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
