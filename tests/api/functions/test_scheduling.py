"""The scheduled-action handler, reconcile, notifications and the local dispatcher, on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.scheduling import (
    failing_video_updates,
    history_rows,
    in_minutes,
    schedule,
    schedule_input,
    schedule_names,
    use_resources,
    video,
)

HANDLER = "publish_scheduled_video"


def scheduled(client: Any, headers: dict[str, str], vid: int, action: str = "publish", minutes: float = 5) -> str:
    response = schedule(client, headers, vid, in_minutes(minutes), action=action)
    assert response.status_code == 200, response.body
    return str(response.json_body["jobId"])


def test_handler_publishes_and_completes_the_row(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid)
    payload = schedule_input(scheduler, job)

    result = client.lambda_.invoke(HANDLER, payload).payload

    assert result == {"status": "completed", "historyId": payload["historyId"], "videoId": vid}
    shown = video(client, admin_headers, vid)
    assert shown["isPublished"] is True and shown["scheduledPublishAt"] is None
    [row] = history_rows(vid)
    assert row["status"] == "completed" and row["executed_at"] is not None and row["error"] is None


def test_handler_unpublishes(client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any) -> None:
    vid = create_video(published=True)["id"]
    job = scheduled(client, admin_headers, vid, action="unpublish")

    assert client.lambda_.invoke(HANDLER, schedule_input(scheduler, job)).payload["status"] == "completed"
    shown = video(client, admin_headers, vid)
    assert shown["isPublished"] is False and shown["scheduledUnpublishAt"] is None


def test_duplicate_delivery_completes_once(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))

    first = client.lambda_.invoke(HANDLER, payload).payload
    executed_at = history_rows(vid)[0]["executed_at"]
    second = client.lambda_.invoke(HANDLER, payload).payload

    assert (first["status"], second["status"]) == ("completed", "stale")
    [row] = history_rows(vid)
    assert row["status"] == "completed" and row["executed_at"] == executed_at


def test_stale_delivery_of_a_replaced_schedule_changes_nothing(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid, minutes=5)
    old_payload = schedule_input(scheduler, job)
    scheduled(client, admin_headers, vid, minutes=20)
    before = history_rows(vid)

    assert client.lambda_.invoke(HANDLER, old_payload).payload["status"] == "stale"
    assert history_rows(vid) == before
    assert video(client, admin_headers, vid)["isPublished"] is False


def test_stale_delivery_of_a_cancelled_schedule_changes_nothing(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))
    client.http.delete(f"/api/videos/{vid}/schedule/publish", headers=admin_headers)

    assert client.lambda_.invoke(HANDLER, payload).payload["status"] == "stale"
    assert [row["status"] for row in history_rows(vid)] == ["cancelled"]
    assert video(client, admin_headers, vid)["isPublished"] is False


def test_delivery_for_a_deleted_video_is_stale(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))
    assert client.http.delete(f"/api/videos/{vid}", headers=admin_headers).status_code == 204

    assert client.lambda_.invoke(HANDLER, payload).payload["status"] == "stale"


def test_already_published_video_is_skipped(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    from tests.support.api import json_body

    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))
    client.http.patch(f"/api/videos/{vid}", headers=admin_headers, body=json_body({"isPublished": True}))

    assert client.lambda_.invoke(HANDLER, payload).payload["status"] == "skipped"
    [row] = history_rows(vid)
    assert row["status"] == "skipped" and "already published" in row["error"]
    assert video(client, admin_headers, vid)["scheduledPublishAt"] is None


def test_failure_marks_the_row_failed_reraises_and_a_retry_completes(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))

    with failing_video_updates("disk on fire"), pytest.raises(Exception, match="disk on fire"):
        client.lambda_.invoke(HANDLER, payload)

    [row] = history_rows(vid)
    assert row["status"] == "failed" and "disk on fire" in row["error"]
    assert video(client, admin_headers, vid)["isPublished"] is False
    # The retry of the same event (Lambda's asynchronous retry) succeeds once the fault is gone.
    assert client.lambda_.invoke(HANDLER, payload).payload["status"] == "completed"
    assert [row["status"] for row in history_rows(vid)] == ["completed"]


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"videoId": "1", "action": "publish", "scheduledFor": "2030-01-01T00:00:00Z", "historyId": 1},
        {"videoId": 1, "action": "delete", "scheduledFor": "2030-01-01T00:00:00Z", "historyId": 1},
        {"videoId": 1, "action": "publish", "scheduledFor": "soon", "historyId": 1},
        {"videoId": 1, "action": "publish", "scheduledFor": "2030-01-01T00:00:00", "historyId": 1},
        {"videoId": True, "action": "publish", "scheduledFor": "2030-01-01T00:00:00Z", "historyId": 1},
    ],
)
def test_malformed_events_are_ignored(client: Any, event: dict[str, Any]) -> None:
    assert client.lambda_.invoke(HANDLER, event).payload["status"] == "ignored"


# --- Notifications ------------------------------------------------------------------------------


def _subscribe_queue(resources: dict[str, str]) -> str:
    from chalicelib.adapters.aws import client

    sqs = client("sqs")
    url = sqs.create_queue(QueueName="schedule-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(
        TopicArn=resources["VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(url)


def _received(url: str) -> list[dict[str, Any]]:
    from chalicelib.adapters.aws import client

    messages = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def _enable_notifications(monkeypatch: pytest.MonkeyPatch, enabled: str = "true") -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("VIDEO_SCHEDULE_NOTIFICATION_ENABLED", enabled)
    get_settings.cache_clear()


def test_notifications_on_completion_and_failure(
    admin_id: int, create_video: Any, resources: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Called on the service: the test client would re-apply the config's "false" to the function."""
    from chalicelib.services.scheduling.actions import schedule_action
    from chalicelib.services.scheduling.execution import execute_scheduled_action

    url = _subscribe_queue(resources)
    done, broken = create_video()["id"], create_video()["id"]
    _enable_notifications(monkeypatch)
    schedule_action(done, "publish", in_minutes(5), "UTC", admin_id)
    schedule_action(broken, "publish", in_minutes(5), "UTC", admin_id)
    from chalicelib.adapters.aws import client

    scheduler = client("scheduler")
    execute_scheduled_action(schedule_input(scheduler, f"video-{done}-publish"))
    with failing_video_updates("no space left"), pytest.raises(Exception, match="no space left"):
        execute_scheduled_action(schedule_input(scheduler, f"video-{broken}-publish"))

    messages = {message["videoId"]: message for message in _received(url)}
    assert messages[done]["status"] == "completed" and messages[done]["action"] == "publish"
    assert messages[broken]["status"] == "failed" and "no space left" in messages[broken]["error"]


def test_no_notification_when_disabled(
    admin_id: int, create_video: Any, resources: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters.aws import client
    from chalicelib.services.scheduling.actions import schedule_action
    from chalicelib.services.scheduling.execution import execute_scheduled_action

    url = _subscribe_queue(resources)
    vid = create_video()["id"]
    _enable_notifications(monkeypatch, "false")
    schedule_action(vid, "publish", in_minutes(5), "UTC", admin_id)
    execute_scheduled_action(schedule_input(client("scheduler"), f"video-{vid}-publish"))

    assert _received(url) == []


def test_notification_failure_never_fails_the_action(
    admin_id: int, create_video: Any, resources: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters.aws import client
    from chalicelib.config import get_settings
    from chalicelib.services.scheduling.actions import schedule_action
    from chalicelib.services.scheduling.execution import execute_scheduled_action

    vid = create_video()["id"]
    monkeypatch.setenv("VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:missing")
    _enable_notifications(monkeypatch)
    get_settings.cache_clear()
    schedule_action(vid, "publish", in_minutes(5), "UTC", admin_id)

    assert (
        execute_scheduled_action(schedule_input(client("scheduler"), f"video-{vid}-publish"))["status"] == "completed"
    )


# --- Reconcile ------------------------------------------------------------------------------------


def test_reconcile_recreates_a_missing_schedule(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    from chalicelib.config import get_settings

    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid, minutes=30)
    expected = schedule_input(scheduler, job)
    scheduler.delete_schedule(Name=job, GroupName=get_settings().schedule_group_name)

    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:rule/reconcile"]
    )
    summary = client.lambda_.invoke("reconcile_video_schedules", event).payload

    assert summary["rescheduled"] == 1
    assert schedule_input(scheduler, job) == expected


def test_reconcile_executes_an_overdue_row_without_schedule(
    client: Any, admin_headers: dict[str, str], admin_id: int, create_video: Any, scheduler: Any
) -> None:
    from chalicelib.config import get_settings
    from chalicelib.services.scheduling.reconciliation import reconcile

    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid, minutes=5)
    scheduler.delete_schedule(Name=job, GroupName=get_settings().schedule_group_name)

    summary = reconcile(now=datetime.now(UTC) + timedelta(minutes=10))

    assert summary["executedLate"] == 1
    assert video(client, admin_headers, vid)["isPublished"] is True
    assert [row["status"] for row in history_rows(vid)] == ["completed"]


def test_reconcile_deletes_orphan_schedules_but_not_young_ones(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    from sqlalchemy import text

    from chalicelib.db.engine import get_engine
    from chalicelib.services.scheduling.reconciliation import reconcile

    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid, minutes=60)
    with get_engine().begin() as connection:  # the row disappears behind the API's back
        connection.execute(text("DELETE FROM video_schedule_history"))

    young = reconcile()
    assert "orphansDeleted" not in young and schedule_names(scheduler) == [job]
    old = reconcile(now=datetime.now(UTC) + timedelta(minutes=5))
    assert old["orphansDeleted"] == 1 and schedule_names(scheduler) == []


def test_reconcile_repairs_a_schedule_carrying_another_history_row(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, resources: dict[str, str]
) -> None:
    from chalicelib.adapters.scheduler import ScheduleSpec, put_schedule
    from chalicelib.config import get_settings
    from chalicelib.services.scheduling.reconciliation import reconcile

    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid, minutes=60)
    good = schedule_input(scheduler, job)
    wrong = ScheduleSpec(vid, "publish", datetime(2030, 1, 1, tzinfo=UTC), "UTC", 1, good["historyId"] + 100)
    put_schedule(wrong, get_settings())

    assert reconcile()["rescheduled"] == 1
    assert schedule_input(scheduler, job) == good


def test_reconcile_clears_the_field_of_an_abandoned_failure(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    from chalicelib.services.scheduling.reconciliation import reconcile

    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))
    with failing_video_updates(), pytest.raises(Exception, match="injected"):
        client.lambda_.invoke(HANDLER, payload)

    assert "failuresAbandoned" not in reconcile() or reconcile()["failuresAbandoned"] == 0
    assert reconcile(now=datetime.now(UTC) + timedelta(hours=3))["failuresAbandoned"] == 1
    assert video(client, admin_headers, vid)["scheduledPublishAt"] is None
    assert [row["status"] for row in history_rows(vid)] == ["failed"]


def test_cancel_clears_a_failed_action_awaiting_retry(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    payload = schedule_input(scheduler, scheduled(client, admin_headers, vid))
    with failing_video_updates(), pytest.raises(Exception, match="injected"):
        client.lambda_.invoke(HANDLER, payload)

    assert client.http.delete(f"/api/videos/{vid}/schedule/publish", headers=admin_headers).status_code == 200
    assert client.lambda_.invoke(HANDLER, payload).payload["status"] == "stale"
    assert video(client, admin_headers, vid)["isPublished"] is False


# --- Local dispatcher (moto in-process) ---------------------------------------------------------


def test_dispatcher_fires_due_schedules_only_and_deletes_them(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    from scripts.local_dispatcher import dispatch_due

    soon, later = create_video()["id"], create_video()["id"]
    scheduled(client, admin_headers, soon, minutes=2)
    scheduled(client, admin_headers, later, minutes=60)

    assert dispatch_due() == 0
    assert dispatch_due(now=datetime.now(UTC) + timedelta(minutes=3)) == 1

    assert video(client, admin_headers, soon)["isPublished"] is True
    assert video(client, admin_headers, later)["isPublished"] is False
    assert schedule_names(scheduler) == [f"video-{later}-publish"]
    assert [row["status"] for row in history_rows(soon)] == ["completed"]


def test_dispatcher_retries_then_dead_letters(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, resources: dict[str, str]
) -> None:
    from chalicelib.adapters.aws import client as aws_client
    from scripts.local_dispatcher import HANDLER_RETRIES, dispatch_due

    vid = create_video()["id"]
    job = scheduled(client, admin_headers, vid, minutes=2)
    payload = schedule_input(scheduler, job)
    later = datetime.now(UTC) + timedelta(minutes=3)
    with failing_video_updates():
        for _ in range(HANDLER_RETRIES + 1):
            assert dispatch_due(now=later) == 0

    assert schedule_names(scheduler) == []
    sqs = aws_client("sqs")
    url = sqs.get_queue_url(QueueName=resources["VIDEO_SCHEDULE_DLQ_ARN"].rsplit(":", 1)[-1])["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url).get("Messages", [])
    assert json.loads(message["Body"]) == payload
    assert history_rows(vid)[0]["status"] == "failed"


def test_dispatcher_fills_scheduler_placeholders() -> None:
    from scripts.local_dispatcher import scheduler_input

    schedule_item = {
        "Arn": "arn:x",
        "Target": {"Input": '{"t":"<aws.scheduler.scheduled-time>","a":"<aws.scheduler.schedule-arn>"}'},
    }
    text = scheduler_input(schedule_item, datetime(2030, 1, 1, 8, tzinfo=UTC))
    assert json.loads(text) == {"t": "2030-01-01T08:00:00.000Z", "a": "arn:x"}


# --- Local AWS resources --------------------------------------------------------------------------


def test_embedded_moto_server_path_of_make_dev(
    admin_id: int, create_video: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make dev` does without an emulator: moto server, resources, schedule, dispatcher fires."""
    import urllib.request

    from chalicelib.services.scheduling.actions import schedule_action
    from scripts.local_aws import ensure_resources, start_moto_server, stop_moto_servers
    from scripts.local_dispatcher import dispatch_due
    from tests.support.scheduling import point_aws_at

    vid = create_video()["id"]
    endpoint = start_moto_server()
    try:
        assert endpoint.startswith("http://127.0.0.1:")
        point_aws_at(monkeypatch, endpoint)
        first, second = ensure_resources(), ensure_resources()
        assert first == second  # idempotent
        assert first["AWS_ENDPOINT_URL"] == endpoint
        assert {"VIDEO_SCHEDULE_TARGET_ARN", "VIDEO_SCHEDULE_ROLE_ARN", "VIDEO_SCHEDULE_DLQ_ARN"} <= set(first)
        assert first["VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN"].startswith("arn:aws:sns:")
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=5) as response:
            assert response.status == 200
        use_resources(monkeypatch, require_endpoint=True)

        scheduled_for = schedule_action(vid, "publish", in_minutes(2), "UTC", admin_id).scheduled_for
        assert dispatch_due(now=scheduled_for + timedelta(seconds=5)) == 1
        assert [row["status"] for row in history_rows(vid)] == ["completed"]
    finally:
        stop_moto_servers()


def test_ensure_resources_refuses_real_aws() -> None:
    from scripts.local_aws import ensure_resources

    with pytest.raises(RuntimeError, match="AWS_ENDPOINT_URL"):
        ensure_resources()
