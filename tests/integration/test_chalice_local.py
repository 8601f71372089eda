"""The app served by ``chalice local`` (what `make dev` runs), over real HTTP."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BASE_ENV, json_body, make_user, token_for, video_payload
from tests.integration.conftest import chalice_local, http_json

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(database_url: str, localstack: str) -> Iterator[str]:
    with chalice_local(
        {**os.environ, **BASE_ENV, "DATABASE_URL": database_url, "AWS_ENDPOINT_URL": localstack}
    ) as base:
        yield base


def test_chalice_local_serves_the_api_under_the_api_prefix(served: str) -> None:
    status, health = http_json(f"{served}/api/health")
    assert status == 200
    assert health["database"]["status"] == "up"

    admin = make_user(role="SUPER_ADMIN")
    status, created = http_json(
        f"{served}/api/videos", "POST", json_body(video_payload(filename="local/clip.mp4")), token_for(admin)
    )
    assert status == 201
    assert created["filename"] == "local/clip.mp4"

    status, listing = http_json(f"{served}/api/videos?limit=5", token=token_for(admin))
    assert status == 200
    assert [video["id"] for video in listing["videos"]] == [created["id"]]

    status, error = http_json(f"{served}/api/videos/abc")
    assert (status, error["error"]) == (400, "BadRequest")
    status, error = http_json(f"{served}/api/videos", "POST", b"{}")
    assert (status, error["error"]) == (401, "Unauthorized")


@pytest.mark.parametrize("path", ["/api/videos", "/api/track/view", "/api/track/heartbeat", "/api/track/batch"])
def test_cors_preflight_is_answered(served: str, path: str) -> None:
    request = urllib.request.Request(
        f"{served}{path}",
        method="OPTIONS",
        headers={"Origin": "https://admin.example.test", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
