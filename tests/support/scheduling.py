"""Helpers shared by the scheduling tests (moto unit tests and LocalStack integration tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import json_body

# Fixed future dates, so the DST cases never drift into the past.
TORONTO_SPRING_FORWARD_GAP = "2030-03-10T02:30"  # clocks go 02:00 -> 03:00
TORONTO_FALL_BACK_AMBIGUOUS = "2030-11-03T01:30"  # 01:00-02:00 happens twice
BERLIN_WINTER_NINE = "2030-01-15T09:00"


def use_resources(monkeypatch: pytest.MonkeyPatch, *, require_endpoint: bool) -> dict[str, str]:
    """Create the scheduling resources in the current emulator and point the settings at them."""
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings
    from scripts.local_aws import ensure_resources

    env = ensure_resources(require_endpoint=require_endpoint)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_clients()
    return env


def in_minutes(minutes: float, now: datetime | None = None) -> str:
    """An ISO instant ``minutes`` from now (whole seconds, ``Z``)."""
    instant = (now or datetime.now(UTC)) + timedelta(minutes=minutes)
    return instant.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def schedule(
    client: Any, headers: dict[str, str], video_id: int, at: str, timezone: str | None = None, action: str = "publish"
) -> Any:
    body: dict[str, Any] = {"publishAt" if action == "publish" else "unpublishAt": at}
    if timezone is not None:
        body["timezone"] = timezone
    return client.http.post(f"/api/videos/{video_id}/schedule-{action}", headers=headers, body=json_body(body))


def video(client: Any, headers: dict[str, str], video_id: int) -> dict[str, Any]:
    response = client.http.get(f"/api/videos/{video_id}", headers=headers)
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def history_rows(video_id: int | None = None) -> list[dict[str, Any]]:
    """Rows of video_schedule_history straight from the database, oldest first."""
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    query = "SELECT * FROM video_schedule_history"
    params: dict[str, Any] = {}
    if video_id is not None:
        query += " WHERE video_id = :v"
        params["v"] = video_id
    with get_engine().connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(query + " ORDER BY id"), params)]


def scheduler_schedule(scheduler: Any, name: str) -> dict[str, Any] | None:
    from chalicelib.config import get_settings

    try:
        return dict(scheduler.get_schedule(Name=name, GroupName=get_settings().schedule_group_name))
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def schedule_input(scheduler: Any, name: str) -> dict[str, Any]:
    found = scheduler_schedule(scheduler, name)
    assert found is not None, f"schedule {name} is missing"
    return dict(json.loads(found["Target"]["Input"]))


def schedule_names(scheduler: Any) -> list[str]:
    from chalicelib.config import get_settings

    group = get_settings().schedule_group_name
    return sorted(item["Name"] for item in scheduler.list_schedules(GroupName=group)["Schedules"])


@contextmanager
def failing_video_updates(message: str = "injected failure") -> Iterator[None]:
    """A real database failure: a trigger that rejects every UPDATE of ``videos``."""
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        connection.execute(
            text(
                "CREATE OR REPLACE FUNCTION scheduling_test_fail() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER scheduling_test_fail BEFORE UPDATE ON videos "
                "FOR EACH ROW EXECUTE FUNCTION scheduling_test_fail()"
            )
        )
    try:
        yield
    finally:
        with get_engine().begin() as connection:
            connection.execute(text("DROP TRIGGER IF EXISTS scheduling_test_fail ON videos"))
            connection.execute(text("DROP FUNCTION IF EXISTS scheduling_test_fail()"))


def closed_port_endpoint() -> str:
    """An endpoint on which nothing listens (Scheduler "down")."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def point_aws_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    get_settings.cache_clear()
    reset_clients()
