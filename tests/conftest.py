"""Fixtures every tier shares. Helpers live in ``tests/support/``.

Every test runs under the same settings (:mod:`tests.support.env`) and with no database:
the ``db``, ``api`` and ``integration`` tiers give each of their tests the session's
migrated database (``database``), emptied after each test; ``unit`` tests have none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import json_body, token_for, video_payload
from tests.support.database import empty_tables, make_user, migrated_database
from tests.support.env import BASE_ENV, NO_DATABASE_URL

pytest_plugins = ("tests.support.media",)
TESTS = Path(__file__).parent
UNIT_TIER = TESTS / "unit"
# With `--dist loadfile` a worker runs a whole file; files start in collection order. The longest
# go first, so the run does not end with one worker busy on a long file while the other idles.
LONGEST_FIRST = (
    "integration/test_real_clients.py",
    "integration/test_fuzz.py",
    "integration/scripts/test_bench.py",
    "integration/infra/test_package.py",
    "integration/test_faults.py",
)
TIER_ORDER = ("integration", "api", "db", "unit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, then the tiers from the slowest to the fastest (see LONGEST_FIRST)."""

    def rank(item: pytest.Item) -> tuple[int, int]:
        relative = item.path.relative_to(TESTS).as_posix()
        if relative in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(relative))
        tier = relative.split("/")[0]
        return (1, TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER))

    items.sort(key=rank)  # stable: within a rank, files and tests keep their collected order


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the same settings, fresh AWS clients and no database."""
    from chalicelib.adapters import url_signing
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", NO_DATABASE_URL)
    get_settings.cache_clear()
    reset_clients()
    yield
    get_settings.cache_clear()
    reset_clients()
    url_signing.reset()


@pytest.fixture(autouse=True)
def tier_database(request: pytest.FixtureRequest) -> None:
    """Tests outside ``tests/unit`` run on the session's database (see :func:`database`)."""
    if UNIT_TIER not in request.path.parents:
        request.getfixturevalue("database")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this session (this xdist worker); dropped at the end."""
    with migrated_database() as url:
        yield url


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    """The session's database as the app's ``DATABASE_URL``; every table emptied after the test."""
    from chalicelib.config import get_settings
    from chalicelib.db import fastpath
    from chalicelib.db.engine import dispose_engine
    from chalicelib.services import privacy

    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    empty_tables()
    dispose_engine()
    fastpath.dispose()
    privacy.forget_salt()  # the day's visitor salt lives in the emptied database


@pytest.fixture
def lambda_app() -> Iterator[Any]:
    """The deployed entry point, to call with API Gateway proxy events (``scripts/apigw.py``).

    Tests call it from many threads at once to race requests, as many Lambda containers would. A
    container handles one request at a time, but Chalice keeps ``current_request`` on the app: shared by
    threads, one request would read another's body. So each thread keeps its own, as ``chalice local``
    (and ``scripts/local_server.py``) does."""
    from app import app
    from scripts.local_server import keep_requests_per_thread

    deployed_class = app.__class__
    keep_requests_per_thread(app)
    try:
        yield app
    finally:
        app.__class__ = deployed_class


@pytest.fixture
def client() -> Iterator[Any]:
    """Chalice's in-process API Gateway; the ``test`` stage adds no config.json variables."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client


@pytest.fixture
def admin_id() -> int:
    return make_user(role="SUPER_ADMIN", name="Admin")


@pytest.fixture
def admin_headers(admin_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(admin_id)}", "Content-Type": "application/json"}


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
    from tests.support.scheduling import use_resources

    return use_resources(monkeypatch, require_endpoint=False)


@pytest.fixture
def scheduler(resources: dict[str, str]) -> Any:
    """moto's EventBridge Scheduler, with the resources above in place."""
    from chalicelib.adapters.aws import client

    return client("scheduler")
