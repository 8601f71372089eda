"""``GET /api/health`` reports the database and the scheduler; 503 without a database."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.db.engine import dispose_engine


def test_health_ok_with_database_and_scheduler(client: Any, aws: None) -> None:
    from chalicelib.adapters.aws import client as aws_client

    aws_client("scheduler").create_schedule_group(Name=get_settings().schedule_group_name)
    response = client.http.get("/api/health")
    assert response.status_code == 200
    body = response.json_body
    assert body["status"] == "ok"
    assert body["database"]["status"] == "up"
    assert body["scheduler"]["status"] == "up"
    assert body["scheduler"]["pendingSchedules"] == 0
    assert body["timestamp"].endswith("Z")
    assert body["uptime"] >= 0


def test_health_degraded_when_scheduler_unreachable(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    get_settings.cache_clear()
    response = client.http.get("/api/health")
    assert response.status_code == 200
    assert response.json_body["status"] == "degraded"
    assert response.json_body["scheduler"]["status"] == "down"


def test_health_503_when_database_unreachable(client: Any, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere")
    get_settings.cache_clear()
    dispose_engine()
    response = client.http.get("/api/health")
    assert response.status_code == 503
    assert response.json_body["status"] == "degraded"
    assert response.json_body["database"]["status"] == "down"
    # Other routes answer 503 with a JSON error, not a 500.
    listing = client.http.get("/api/videos")
    assert listing.status_code == 503
    assert listing.json_body["error"] == "ServiceUnavailable"
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    dispose_engine()
