"""Test fixtures: a real PostgreSQL database per test session, an admin token,
the Chalice test client, and moto for AWS calls.

The server is the one ``DATABASE_URL`` names (CI: 127.0.0.1:5432), else the
embedded one; each session (each xdist worker) creates and drops its own
database, so runs never see each other's data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pg8000.native
import pytest

from scripts.embedded_db import server_url, with_database

TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"
BASE_ENV = {
    "JWT_ACCESS_SECRET": TEST_JWT_SECRET,
    "VIDEO_ANALYTICS_IP_HASH_SECRET": "test-ip-hash-secret",
    "VIDEO_VIEW_TOKEN_SECRET": "test-view-token-secret",
    "MEDIA_API_URL": "http://media.test",
    "MEDIA_BUCKET": "media-test-bucket",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class ScratchDatabase:
    """An unmigrated database of its own (migration tests), with an engine and an Alembic config on it."""

    url: str
    engine: Any
    alembic: Any


@contextmanager
def scratch_database(server_url: str, prefix: str = "media_scratch") -> Iterator[ScratchDatabase]:
    from alembic.config import Config
    from sqlalchemy import create_engine

    from chalicelib.db.engine import to_sqlalchemy_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = admin_connection(server_url)
    admin.run(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    engine = create_engine(to_sqlalchemy_url(url))
    config = Config("alembic.ini")
    config.attributes["database_url"] = url
    try:
        yield ScratchDatabase(url, engine, config)
    finally:
        engine.dispose()
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def admin_connection(url: str) -> pg8000.native.Connection:
    """A plain autocommitted connection, for CREATE/DROP DATABASE."""
    from chalicelib.db.engine import pg8000_connect_kwargs

    return pg8000.native.Connection(**pg8000_connect_kwargs(url))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this session; dropped at the end."""
    server = server_url()
    name = f"media_test_{uuid.uuid4().hex[:12]}"
    admin = admin_connection(server)
    admin.run(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    try:
        from alembic import command
        from alembic.config import Config

        config = Config("alembic.ini")
        config.attributes["database_url"] = url
        command.upgrade(config, "head")
        yield url
    finally:
        from chalicelib.db.engine import dispose_engine

        dispose_engine()
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(autouse=True)
def app_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    """Every test starts from the same settings and an empty database."""
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings
    from chalicelib.db.engine import dispose_engine

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_clients()
    yield
    truncate_all()
    get_settings.cache_clear()
    reset_clients()
    dispose_engine()
    from chalicelib.adapters import url_signing
    from chalicelib.db import fastpath

    fastpath.dispose()
    from chalicelib.services import privacy

    privacy.forget_salt()
    url_signing.reset()


@pytest.fixture
def lambda_app() -> Any:
    """The deployed entry point, to call with API Gateway proxy events (``scripts/apigw.py``)."""
    from app import app

    return app


def truncate_all() -> None:
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        connection.execute(
            text(
                "TRUNCATE videos, video_views, video_events, video_schedule_history, ingest_failures, "
                "analytics_hours, analytics_days, analytics_referrers, analytics_referrer_days, analytics_totals, "
                "analytics_state, analytics_audience_days, "
                "analytics_zones, rate_limit_counters, import_checkpoints, import_ids, visitor_salts, "
                "users RESTART IDENTITY CASCADE"
            )
        )
        connection.execute(text("INSERT INTO analytics_zones (zone) VALUES ('UTC')"))  # as migration 0004 leaves it


@pytest.fixture
def client() -> Any:
    """Chalice's in-process API Gateway; the ``test`` stage adds no config.json variables."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client


def make_user(
    user_id: int | None = None, role: str = "SUPER_ADMIN", email: str | None = None, name: str | None = None
) -> int:
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        if user_id is None:
            user_id = connection.execute(
                text("INSERT INTO users (email, name, role) VALUES (:e, :n, :r) RETURNING id"),
                {"e": email or f"{uuid.uuid4().hex[:8]}@example.test", "n": name, "r": role},
            ).scalar_one()
        else:
            connection.execute(
                text("INSERT INTO users (id, email, name, role) VALUES (:i, :e, :n, :r) ON CONFLICT (id) DO NOTHING"),
                {"i": user_id, "e": email or f"user{user_id}@example.test", "n": name, "r": role},
            )
            connection.execute(text("SELECT setval('users_id_seq', GREATEST((SELECT max(id) FROM users), 1))"))
    return int(user_id)


def token_for(user_id: int, role: str = "SUPER_ADMIN", ttl: int = 3600) -> str:
    from chalicelib.services.auth import issue_access_token

    return issue_access_token(user_id, role, ttl)


@pytest.fixture
def admin_id() -> int:
    return make_user(role="SUPER_ADMIN", name="Admin")


@pytest.fixture
def admin_headers(admin_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(admin_id)}", "Content-Type": "application/json"}


def json_body(data: Any) -> bytes:
    return json.dumps(data).encode()


def video_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "filename": f"videos/{uuid.uuid4().hex}.mp4",
        "title": "Sunrise over the bay",
        "producer": "Harbour Films",
        "creator": "Ana",
        "thumbnailUrl": "https://cdn.example.test/t.jpg",
        "duration": 120,
        "fileSize": 6_000_000_000,
        "width": 1920,
        "height": 1080,
        "hasAudio": True,
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def create_video(client: Any, admin_headers: dict[str, str]) -> Any:
    """Register a video through the API; returns its JSON. ``published=True`` publishes it."""

    def _create(published: bool = False, **overrides: Any) -> dict[str, Any]:
        response = client.http.post("/api/videos", headers=admin_headers, body=json_body(video_payload(**overrides)))
        assert response.status_code == 201, response.body
        video = response.json_body
        if published:
            response = client.http.patch(
                f"/api/videos/{video['id']}", headers=admin_headers, body=json_body({"isPublished": True})
            )
            assert response.status_code == 200, response.body
            video = response.json_body
        return video

    return _create


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process for every AWS call the test makes."""
    from moto import mock_aws

    from chalicelib.adapters.aws import reset_clients

    with mock_aws():
        reset_clients()
        yield
    reset_clients()


@pytest.fixture
def resources(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The scheduling resources (group, DLQ, topic, role, bucket) in moto, exported to the settings."""
    from tests.scheduling_support import use_resources

    return use_resources(monkeypatch, require_endpoint=False)


@pytest.fixture
def scheduler(resources: dict[str, str]) -> Any:
    """moto's EventBridge Scheduler, with the resources above in place."""
    from chalicelib.adapters.aws import client

    return client("scheduler")
