"""Scheduled publishing end to end against a real LocalStack process.

The API writes schedules into LocalStack's EventBridge Scheduler; they are read
back through a ``localstack-client`` session (as an operator would inspect
them); LocalStack never fires them, so the local dispatcher does, invoking the
same Chalice handler with the Input JSON Scheduler would send.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from localstack_client.session import Session

from tests.support.api import json_body, token_for
from tests.support.database import make_user
from tests.support.env import BASE_ENV
from tests.support.local_server import http_json, local_server
from tests.support.scheduling import (
    BERLIN_WINTER_NINE,
    TORONTO_FALL_BACK_AMBIGUOUS,
    TORONTO_SPRING_FORWARD_GAP,
    closed_port_endpoint,
    history_rows,
    in_minutes,
    point_aws_at,
    schedule,
    schedule_input,
    schedule_names,
    scheduler_schedule,
    use_resources,
    video,
)


@pytest.fixture
def resources(localstack: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return use_resources(monkeypatch, require_endpoint=True)


@pytest.fixture
def ls_scheduler(localstack_endpoint: str, resources: dict[str, str]) -> Any:
    """A Scheduler client made by ``localstack-client``, independent of the app's own clients."""
    session = Session(
        aws_access_key_id="test",
        aws_secret_access_key="test",
        localstack_host=localstack_endpoint.removeprefix("http://"),
    )
    return session.client("scheduler")


@pytest.fixture(autouse=True)
def _empty_group(resources: dict[str, str], ls_scheduler: Any) -> Iterator[None]:
    """LocalStack lives for the whole session; each test starts and ends with an empty group."""
    yield
    for name in schedule_names(ls_scheduler):
        ls_scheduler.delete_schedule(Name=name, GroupName=resources["VIDEO_SCHEDULE_GROUP"])


def berlin_wall_time(minutes: float) -> tuple[str, datetime]:
    """A naive Berlin wall time ``minutes`` ahead, and its UTC instant."""
    instant = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)
    return instant.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M:%S"), instant


def test_schedule_is_stored_in_localstack_and_the_dispatcher_publishes(
    client: Any, admin_headers: dict[str, str], create_video: Any, ls_scheduler: Any, resources: dict[str, str]
) -> None:
    from scripts.local_dispatcher import dispatch_due

    vid = create_video()["id"]
    wall, instant = berlin_wall_time(2)
    response = schedule(client, admin_headers, vid, wall, "Europe/Berlin")
    assert response.status_code == 200, response.body

    stored = scheduler_schedule(ls_scheduler, f"video-{vid}-publish")
    assert stored is not None
    assert stored["ScheduleExpression"] == f"at({wall})"
    assert stored["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert stored["ActionAfterCompletion"] == "DELETE"
    assert stored["FlexibleTimeWindow"]["Mode"] == "OFF"
    assert stored["Target"]["Arn"] == resources["VIDEO_SCHEDULE_TARGET_ARN"]
    assert stored["Target"]["RoleArn"] == resources["VIDEO_SCHEDULE_ROLE_ARN"]
    assert stored["Target"]["DeadLetterConfig"]["Arn"] == resources["VIDEO_SCHEDULE_DLQ_ARN"]
    assert json.loads(stored["Target"]["Input"])["scheduledFor"] == instant.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )

    assert dispatch_due() == 0  # not due yet
    assert dispatch_due(now=instant + timedelta(seconds=30)) == 1

    shown = video(client, admin_headers, vid)
    assert shown["isPublished"] is True and shown["scheduledPublishAt"] is None
    assert [row["status"] for row in history_rows(vid)] == ["completed"]
    assert schedule_names(ls_scheduler) == []  # deleted as ActionAfterCompletion=DELETE does


def test_cancel_removes_the_schedule_from_localstack(
    client: Any, admin_headers: dict[str, str], create_video: Any, ls_scheduler: Any
) -> None:
    vid = create_video()["id"]
    schedule(client, admin_headers, vid, in_minutes(30))
    assert schedule_names(ls_scheduler) == [f"video-{vid}-publish"]

    assert client.http.delete(f"/api/videos/{vid}/schedule/publish", headers=admin_headers).status_code == 200
    assert schedule_names(ls_scheduler) == []
    assert [row["status"] for row in history_rows(vid)] == ["cancelled"]


def test_reschedule_replaces_the_old_schedule(
    client: Any, admin_headers: dict[str, str], create_video: Any, ls_scheduler: Any
) -> None:
    vid = create_video()["id"]
    schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z", "UTC")
    schedule(client, admin_headers, vid, "2030-05-02T12:00", "Europe/Berlin")

    assert schedule_names(ls_scheduler) == [f"video-{vid}-publish"]
    stored = scheduler_schedule(ls_scheduler, f"video-{vid}-publish")
    assert stored is not None
    assert (stored["ScheduleExpression"], stored["ScheduleExpressionTimezone"]) == (
        "at(2030-05-02T12:00:00)",
        "Europe/Berlin",
    )
    old, new = history_rows(vid)
    assert (old["status"], new["status"]) == ("cancelled", "pending")
    assert json.loads(stored["Target"]["Input"])["historyId"] == new["id"]


def test_duplicate_delivery_completes_once(
    client: Any, admin_headers: dict[str, str], create_video: Any, ls_scheduler: Any
) -> None:
    from scripts.local_dispatcher import invoke_handler

    vid = create_video()["id"]
    schedule(client, admin_headers, vid, in_minutes(5))
    payload = schedule_input(ls_scheduler, f"video-{vid}-publish")

    outcomes = [invoke_handler(payload)["status"] for _ in range(3)]

    assert outcomes == ["completed", "stale", "stale"]
    assert [row["status"] for row in history_rows(vid)] == ["completed"]


def test_stale_delivery_changes_nothing(
    client: Any, admin_headers: dict[str, str], create_video: Any, ls_scheduler: Any
) -> None:
    from scripts.local_dispatcher import invoke_handler

    vid = create_video()["id"]
    schedule(client, admin_headers, vid, in_minutes(5))
    stale = schedule_input(ls_scheduler, f"video-{vid}-publish")
    schedule(client, admin_headers, vid, in_minutes(50))
    before = history_rows(vid)

    assert invoke_handler(stale)["status"] == "stale"
    assert history_rows(vid) == before
    assert video(client, admin_headers, vid)["isPublished"] is False


def test_scheduler_down_is_503_and_the_database_is_unchanged(
    client: Any, admin_headers: dict[str, str], create_video: Any, monkeypatch: pytest.MonkeyPatch, ls_scheduler: Any
) -> None:
    vid = create_video()["id"]
    point_aws_at(monkeypatch, closed_port_endpoint())

    response = schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "Europe/Berlin")

    assert response.status_code == 503
    assert history_rows(vid) == []
    assert video(client, admin_headers, vid)["scheduledPublishAt"] is None
    assert schedule_names(ls_scheduler) == []


@pytest.mark.parametrize(
    ("wall", "zone", "status", "expected"),
    [
        (TORONTO_SPRING_FORWARD_GAP, "America/Toronto", 422, None),
        (TORONTO_FALL_BACK_AMBIGUOUS, "America/Toronto", 200, ("2030-11-03T05:30:00.000Z", "at(2030-11-03T05:30:00)")),
        (BERLIN_WINTER_NINE, "Europe/Berlin", 200, ("2030-01-15T08:00:00.000Z", "at(2030-01-15T09:00:00)")),
    ],
)
def test_daylight_saving_cases(
    client: Any,
    admin_headers: dict[str, str],
    create_video: Any,
    ls_scheduler: Any,
    wall: str,
    zone: str,
    status: int,
    expected: tuple[str, str] | None,
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, wall, zone)

    assert response.status_code == status, response.body
    stored = scheduler_schedule(ls_scheduler, f"video-{vid}-publish")
    if expected is None:
        assert stored is None and history_rows(vid) == []
        return
    assert stored is not None
    assert response.json_body["scheduledFor"] == expected[0]
    assert stored["ScheduleExpression"] == expected[1]


def test_reconcile_repairs_both_sides(
    client: Any, admin_headers: dict[str, str], create_video: Any, ls_scheduler: Any, resources: dict[str, str]
) -> None:
    from chalicelib.services.scheduling.reconciliation import reconcile

    lost, orphan = create_video()["id"], create_video()["id"]
    schedule(client, admin_headers, lost, in_minutes(30))
    schedule(client, admin_headers, orphan, in_minutes(40))
    expected = schedule_input(ls_scheduler, f"video-{lost}-publish")
    ls_scheduler.delete_schedule(Name=f"video-{lost}-publish", GroupName=resources["VIDEO_SCHEDULE_GROUP"])
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        connection.execute(text("DELETE FROM video_schedule_history WHERE video_id = :v"), {"v": orphan})

    summary = reconcile(now=datetime.now(UTC) + timedelta(minutes=3))

    assert summary["rescheduled"] == 1 and summary["orphansDeleted"] == 1
    assert schedule_names(ls_scheduler) == [f"video-{lost}-publish"]
    assert schedule_input(ls_scheduler, f"video-{lost}-publish") == expected


def test_health_reports_localstack_scheduler(client: Any, admin_headers: dict[str, str], create_video: Any) -> None:
    schedule(client, admin_headers, create_video()["id"], in_minutes(30))
    scheduler = client.http.get("/api/health", headers=admin_headers).json_body["scheduler"]
    assert scheduler["status"] == "up" and scheduler["pendingSchedules"] == 1


# --- Over real HTTP: `chalice local` plus the dispatcher thread, as `make dev` runs them ----------


@pytest.fixture
def served(database_url: str, resources: dict[str, str]) -> Iterator[str]:
    with local_server({**os.environ, **BASE_ENV, **resources, "DATABASE_URL": database_url}) as base:
        yield base


def test_chalice_local_schedule_then_dispatcher_thread_publishes_within_seconds(
    served: str, ls_scheduler: Any, resources: dict[str, str]
) -> None:
    from scripts.local_dispatcher import run_forever

    admin = make_user(role="SUPER_ADMIN")
    token = token_for(admin)
    status, created = http_json(f"{served}/api/videos", "POST", json_body(_video()), token)
    assert status == 201, created
    vid = created["id"]
    status, scheduled = http_json(
        f"{served}/api/videos/{vid}/schedule-publish", "POST", json_body({"publishAt": in_minutes(2)}), token
    )
    assert status == 200, scheduled
    # Make the stored schedule due now (the API refuses times under a minute ahead); the
    # handler trusts the Input, not the clock, so only the at() expression changes.
    stored = scheduler_schedule(ls_scheduler, scheduled["jobId"])
    assert stored is not None
    past = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    keep = ("Name", "GroupName", "FlexibleTimeWindow", "Target", "ActionAfterCompletion")
    ls_scheduler.update_schedule(
        **{key: stored[key] for key in keep}, ScheduleExpression=f"at({past})", ScheduleExpressionTimezone="UTC"
    )

    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(stop, 0.5), daemon=True)
    started = time.monotonic()
    worker.start()
    try:
        published = False
        while not published and time.monotonic() - started < 10:
            time.sleep(0.5)
            published = http_json(f"{served}/api/videos/{vid}", token=token)[1]["isPublished"]
    finally:
        stop.set()
        worker.join(timeout=10)

    assert published, "the dispatcher did not publish the video within 10 s"
    status, history = http_json(f"{served}/api/videos/{vid}/schedule-history", token=token)
    assert [item["status"] for item in history["history"]] == ["completed"]
    assert schedule_names(ls_scheduler) == []


def _video() -> dict[str, Any]:
    from tests.support.api import video_payload

    return video_payload(filename=f"local/scheduled-{time.monotonic_ns()}.mp4")
