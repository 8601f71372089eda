"""``GET /api/health`` reports the database and the scheduler to admins, only a status to anyone else;
503 without a database."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.db.engine import dispose_engine


def test_health_ok_with_database_and_scheduler(client: Any, aws: None, admin_headers: dict[str, str]) -> None:
    from chalicelib.adapters.aws import client as aws_client

    aws_client("scheduler").create_schedule_group(Name=get_settings().schedule_group_name)
    response = client.http.get("/api/health", headers=admin_headers)
    assert response.status_code == 200
    body = response.json_body
    assert body["status"] == "ok"
    assert body["database"]["status"] == "up"
    assert body["scheduler"]["status"] == "up"
    assert body["scheduler"]["pendingSchedules"] == 0
    assert body["timestamp"].endswith("Z")
    assert body["uptime"] >= 0


def test_health_degraded_when_scheduler_unreachable(
    client: Any, monkeypatch: pytest.MonkeyPatch, admin_headers: dict[str, str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    get_settings.cache_clear()
    response = client.http.get("/api/health", headers=admin_headers)
    assert response.status_code == 200
    assert response.json_body["status"] == "degraded"
    assert response.json_body["scheduler"]["status"] == "down"


def test_health_503_when_database_unreachable(client: Any, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from tests.support.api import token_for

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere")
    get_settings.cache_clear()
    dispose_engine()
    # The admin is not looked up in the database: the token alone says who calls.
    response = client.http.get("/api/health", headers={"Authorization": f"Bearer {token_for(1)}"})
    assert response.status_code == 503
    assert response.json_body["status"] == "degraded"
    assert response.json_body["database"]["status"] == "down"
    assert client.http.get("/api/health").json_body == {"status": "degraded"}
    # Other routes answer 503 with a JSON error, not a 500.
    listing = client.http.get("/api/videos")
    assert listing.status_code == 503
    assert listing.json_body["error"] == "ServiceUnavailable"
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    dispose_engine()


@pytest.mark.parametrize("token", [None, "not-a-token", "user"])
def test_the_public_and_non_admins_get_the_status_only(
    client: Any, monkeypatch: pytest.MonkeyPatch, token: Any
) -> None:
    """Error class names and schedule counts tell an attacker what runs behind the API: admins only."""
    from tests.support.api import token_for
    from tests.support.database import make_user

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the scheduler check fails with a class name
    get_settings.cache_clear()
    if token == "user":
        token = token_for(make_user(role="USER"), "USER")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.http.get("/api/health", headers=headers)
    assert response.status_code == 200
    assert response.json_body == {"status": "degraded"}
