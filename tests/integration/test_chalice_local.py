"""The app served by the local server (Chalice's ``chalice local``, what `make dev` runs), over real HTTP:
the /api prefix, CORS exactly as configured, 429s a browser can read, the JSON 404 of unknown routes."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import json_body, token_for, video_payload
from tests.support.database import make_user
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, http_json, local_server

ALLOWED_ORIGINS = ("https://admin.example.test", "https://www.example.test")


@pytest.fixture
def served(database_url: str, localstack: str) -> Iterator[LocalServer]:
    env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": localstack,
        "CORS_ALLOWED_ORIGINS": ",".join(ALLOWED_ORIGINS),
    }
    with local_server(env) as server:
        yield server


def test_chalice_local_serves_the_api_under_the_api_prefix(served: str) -> None:
    admin = make_user(role="SUPER_ADMIN")
    status, public = http_json(f"{served}/api/health")
    assert status == 200 and set(public) == {"status"}
    status, health = http_json(f"{served}/api/health", token=token_for(admin))
    assert status == 200
    assert health["database"]["status"] == "up"

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


@pytest.mark.parametrize("path", ["/api/videos", "/api/videos/7", "/api/track/view", "/api/track/batch"])
@pytest.mark.parametrize("origin", ALLOWED_ORIGINS)
def test_a_preflight_from_a_listed_origin_reflects_it(served: LocalServer, path: str, origin: str) -> None:
    headers = _preflight(served, path, origin)
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in headers["Access-Control-Allow-Methods"] or "PATCH" in headers["Access-Control-Allow-Methods"]
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert "Origin" in headers["Vary"]


@pytest.mark.parametrize("origin", ["https://evil.example.test", "null", "https://admin.example.test.evil.test"])
def test_an_unlisted_origin_gets_no_cors_header_at_all(served: LocalServer, origin: str) -> None:
    preflight = _preflight(served, "/api/track/view", origin)
    request = urllib.request.Request(f"{served}/api/health", headers={"Origin": origin})
    with urllib.request.urlopen(request, timeout=10) as response:
        actual = response.headers
    for headers in (preflight, actual):
        assert not [name for name in headers if name.lower().startswith("access-control-")], dict(headers)
        assert "Origin" in headers["Vary"]


def test_a_listed_origin_can_read_retry_after_of_a_429(served: LocalServer) -> None:
    origin = ALLOWED_ORIGINS[0]
    statuses = []
    for _ in range(101):
        request = urllib.request.Request(
            f"{served}/api/track/view",
            data=b'{"videoId": 999999}',
            method="POST",
            headers={"Origin": origin, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                statuses.append((response.status, response.headers))
        except urllib.error.HTTPError as error:
            statuses.append((error.code, error.headers))
    status, headers = statuses[-1]
    assert status == 429
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    assert int(headers["Retry-After"]) >= 1


def test_an_unknown_route_is_the_deployed_json_404(served: LocalServer) -> None:
    for path in ("/api/nope", "/nope", "/api/videos/1/nope/deeper"):
        status, body = http_json(f"{served}{path}")
        assert (status, body) == (404, {"error": "NotFound", "message": "No such route"})


def _preflight(served: LocalServer, path: str, origin: str) -> Any:
    request = urllib.request.Request(
        f"{served}{path}",
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204
        return response.headers
