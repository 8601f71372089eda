"""Scheduled publish/unpublish through the API, with EventBridge Scheduler emulated by moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import json_body, token_for
from tests.support.database import make_user
from tests.support.scheduling import (
    BERLIN_WINTER_NINE,
    TORONTO_FALL_BACK_AMBIGUOUS,
    TORONTO_SPRING_FORWARD_GAP,
    closed_port_endpoint,
    failing_video_updates,
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

# --- Scheduling ---------------------------------------------------------------------------------


def test_schedule_publish_creates_one_shot_schedule_and_pending_row(
    client: Any, admin_headers: dict[str, str], admin_id: int, create_video: Any, scheduler: Any, resources: Any
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, "2030-06-01T14:30:00", "America/Toronto")

    assert response.status_code == 200, response.body
    assert response.json_body == {"jobId": f"video-{vid}-publish", "scheduledFor": "2030-06-01T18:30:00.000Z"}
    assert video(client, admin_headers, vid)["scheduledPublishAt"] == "2030-06-01T18:30:00.000Z"
    found = scheduler_schedule(scheduler, f"video-{vid}-publish")
    assert found is not None
    assert found["ScheduleExpression"] == "at(2030-06-01T14:30:00)"
    assert found["ScheduleExpressionTimezone"] == "America/Toronto"
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert found["ActionAfterCompletion"] == "DELETE"
    assert found["GroupName"] == resources["VIDEO_SCHEDULE_GROUP"]
    target = found["Target"]
    assert target["Arn"] == resources["VIDEO_SCHEDULE_TARGET_ARN"]
    assert target["RoleArn"] == resources["VIDEO_SCHEDULE_ROLE_ARN"]
    assert target["DeadLetterConfig"] == {"Arn": resources["VIDEO_SCHEDULE_DLQ_ARN"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    [row] = history_rows(vid)
    assert row["status"] == "pending" and row["action"] == "publish" and row["timezone"] == "America/Toronto"
    assert json.loads(target["Input"]) == {
        "videoId": vid,
        "action": "publish",
        "scheduledFor": "2030-06-01T18:30:00.000Z",
        "timezone": "America/Toronto",
        "scheduledByUserId": admin_id,
        "historyId": row["id"],
    }


def test_dst_gap_is_rejected_and_nothing_is_written(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, TORONTO_SPRING_FORWARD_GAP, "America/Toronto")

    assert response.status_code == 422
    assert "does not exist" in response.json_body["message"]
    assert history_rows(vid) == []
    assert schedule_names(scheduler) == []


def test_ambiguous_fall_back_time_takes_the_first_occurrence(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, TORONTO_FALL_BACK_AMBIGUOUS, "America/Toronto")

    assert response.status_code == 200, response.body
    assert response.json_body["scheduledFor"] == "2030-11-03T05:30:00.000Z"  # 01:30 EDT (UTC-4), not EST
    found = scheduler_schedule(scheduler, f"video-{vid}-publish")
    assert found is not None
    # The wall time is ambiguous in Toronto, so the same instant goes to Scheduler in UTC.
    assert (found["ScheduleExpression"], found["ScheduleExpressionTimezone"]) == ("at(2030-11-03T05:30:00)", "UTC")
    assert history_rows(vid)[0]["timezone"] == "America/Toronto"


def test_berlin_winter_nine_is_eight_utc(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "Europe/Berlin")

    assert response.status_code == 200, response.body
    assert response.json_body["scheduledFor"] == "2030-01-15T08:00:00.000Z"
    found = scheduler_schedule(scheduler, f"video-{vid}-publish")
    assert found is not None
    assert (found["ScheduleExpression"], found["ScheduleExpressionTimezone"]) == (
        "at(2030-01-15T09:00:00)",
        "Europe/Berlin",
    )


def test_instant_with_offset_is_absolute_and_expressed_in_the_zone(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, "2030-06-01T12:00:00+02:00", "America/New_York")

    assert response.json_body["scheduledFor"] == "2030-06-01T10:00:00.000Z"
    found = scheduler_schedule(scheduler, f"video-{vid}-publish")
    assert found is not None
    assert found["ScheduleExpression"] == "at(2030-06-01T06:00:00)"


def test_timezone_defaults_to_the_configured_zone(
    admin_id: int, create_video: Any, resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Called on the service: the test client re-applies .chalice/config.json's default (UTC) per request."""
    from chalicelib.config import get_settings
    from chalicelib.services.scheduling.actions import schedule_action

    vid = create_video()["id"]
    monkeypatch.setenv("VIDEO_SCHEDULE_DEFAULT_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    result = schedule_action(vid, "publish", BERLIN_WINTER_NINE, None, admin_id)

    assert result.scheduled_for == datetime(2030, 1, 15, 8, 0, tzinfo=UTC)
    assert history_rows(vid)[0]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "Mars/Olympus_Mons"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "../../etc/passwd"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "A" * 65}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": ""}, 400),
        ({"publishAt": "next tuesday", "timezone": "UTC"}, 400),
        ({"publishAt": "", "timezone": "UTC"}, 400),
        ({"publishAt": 1893456000, "timezone": "UTC"}, 400),
        ({"timezone": "UTC"}, 400),
        ({"publishAt": "2020-01-01T00:00:00Z"}, 422),
        ({"publishAt": "9999-12-31T23:59:59", "timezone": "Pacific/Kiritimati"}, 400),
        ({"publishAt": "0001-01-01T00:00:00", "timezone": "Asia/Tokyo"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "posix/Europe/Berlin"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "right/UTC"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "localtime"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "Factory"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "posixrules"}, 400),
        ({"publishAt": BERLIN_WINTER_NINE, "timezone": "europe/berlin"}, 400),
    ],
)
def test_bad_schedule_input_is_a_clear_4xx(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, body: dict[str, Any], status: int
) -> None:
    vid = create_video()["id"]
    response = client.http.post(f"/api/videos/{vid}/schedule-publish", headers=admin_headers, body=json_body(body))

    assert response.status_code == status, response.body
    assert response.json_body["error"] and response.json_body["message"]
    assert history_rows(vid) == [] and schedule_names(scheduler) == []


@pytest.mark.parametrize(
    ("given", "stored"),
    [("US/Eastern", "America/New_York"), ("Asia/Calcutta", "Asia/Kolkata"), ("UTC", "UTC"), ("Etc/UTC", "Etc/UTC")],
)
def test_a_zone_link_is_replaced_by_its_canonical_zone(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, given: str, stored: str
) -> None:
    """Browsers report links (Chrome's Asia/Calcutta); Scheduler is sent the canonical zone."""
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, "2030-01-15T09:00", given)

    assert response.status_code == 200, response.body
    assert history_rows(vid)[0]["timezone"] == stored
    found = scheduler_schedule(scheduler, f"video-{vid}-publish")
    assert found is not None and found["ScheduleExpressionTimezone"] == stored


def test_less_than_a_minute_ahead_is_422(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    assert schedule(client, admin_headers, vid, in_minutes(0.5)).status_code == 422
    assert schedule(client, admin_headers, vid, in_minutes(3)).status_code == 200


def test_unknown_video_is_404_and_bad_id_400(client: Any, admin_headers: dict[str, str], scheduler: Any) -> None:
    assert schedule(client, admin_headers, 424242, BERLIN_WINTER_NINE, "UTC").status_code == 404
    response = client.http.post(
        "/api/videos/abc/schedule-publish", headers=admin_headers, body=json_body({"publishAt": BERLIN_WINTER_NINE})
    )
    assert response.status_code == 400
    assert schedule_names(scheduler) == []


def test_only_admins_schedule(client: Any, create_video: Any, scheduler: Any) -> None:
    vid = create_video()["id"]
    viewer = make_user(role="USER")
    headers = {"Authorization": f"Bearer {token_for(viewer, role='USER')}", "Content-Type": "application/json"}
    assert schedule(client, headers, vid, BERLIN_WINTER_NINE, "UTC").status_code == 403
    anonymous = {"Content-Type": "application/json"}
    assert schedule(client, anonymous, vid, BERLIN_WINTER_NINE, "UTC").status_code == 401
    assert client.http.get("/api/videos/schedules/upcoming", headers=anonymous).status_code == 401


def test_admin_token_for_a_user_unknown_to_the_database_is_403(client: Any, create_video: Any, scheduler: Any) -> None:
    vid = create_video()["id"]
    headers = {"Authorization": f"Bearer {token_for(987654)}", "Content-Type": "application/json"}
    response = schedule(client, headers, vid, BERLIN_WINTER_NINE, "UTC")

    assert response.status_code == 403
    assert "not known" in response.json_body["message"]
    assert history_rows(vid) == [] and schedule_names(scheduler) == []


def test_unpublish_must_follow_the_pending_publish(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    assert schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z").status_code == 200

    at_same_time = schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z", action="unpublish")
    before = schedule(client, admin_headers, vid, "2030-04-01T10:00:00Z", action="unpublish")
    after = schedule(client, admin_headers, vid, "2030-05-02T10:00:00Z", action="unpublish")
    publish_after_unpublish = schedule(client, admin_headers, vid, "2030-05-03T10:00:00Z")

    assert (at_same_time.status_code, before.status_code, after.status_code) == (422, 422, 200)
    assert publish_after_unpublish.status_code == 422
    assert schedule_names(scheduler) == [f"video-{vid}-publish", f"video-{vid}-unpublish"]
    assert video(client, admin_headers, vid)["scheduledUnpublishAt"] == "2030-05-02T10:00:00.000Z"


def test_rescheduling_replaces_the_pending_schedule(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z")
    response = schedule(client, admin_headers, vid, "2030-05-02T11:00", "Europe/Berlin")

    assert response.status_code == 200
    first, second = history_rows(vid)
    assert (first["status"], second["status"]) == ("cancelled", "pending")
    assert schedule_names(scheduler) == [f"video-{vid}-publish"]
    payload = schedule_input(scheduler, f"video-{vid}-publish")
    assert (payload["historyId"], payload["scheduledFor"]) == (second["id"], "2030-05-02T09:00:00.000Z")
    assert scheduler_schedule(scheduler, f"video-{vid}-publish")["ScheduleExpression"] == "at(2030-05-02T11:00:00)"  # type: ignore[index]
    assert video(client, admin_headers, vid)["scheduledPublishAt"] == "2030-05-02T09:00:00.000Z"


# --- Cancel, upcoming, history ------------------------------------------------------------------


def test_cancel_deletes_schedule_clears_field_and_marks_row(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z")
    response = client.http.delete(f"/api/videos/{vid}/schedule/publish", headers=admin_headers)

    assert response.status_code == 200
    assert response.json_body == {"success": True, "message": "publish schedule cancelled"}
    assert schedule_names(scheduler) == []
    assert video(client, admin_headers, vid)["scheduledPublishAt"] is None
    assert [row["status"] for row in history_rows(vid)] == ["cancelled"]
    again = client.http.delete(f"/api/videos/{vid}/schedule/publish", headers=admin_headers)
    assert again.status_code == 404


def test_cancel_validates_action_and_video(client: Any, admin_headers: dict[str, str], scheduler: Any) -> None:
    assert client.http.delete("/api/videos/1/schedule/explode", headers=admin_headers).status_code == 400
    assert client.http.delete("/api/videos/999/schedule/unpublish", headers=admin_headers).status_code == 404


def test_upcoming_lists_pending_soonest_first(
    client: Any, admin_headers: dict[str, str], admin_id: int, create_video: Any, scheduler: Any
) -> None:
    late, early = create_video(title="Late"), create_video(title="Early", published=True)
    schedule(client, admin_headers, late["id"], "2030-08-01T10:00:00Z", "UTC")
    schedule(client, admin_headers, early["id"], "2030-07-01T10:00", "Europe/Berlin", action="unpublish")
    response = client.http.get("/api/videos/schedules/upcoming", headers=admin_headers)

    assert response.status_code == 200
    assert response.json_body["schedules"] == [
        {
            "jobId": f"video-{early['id']}-unpublish",
            "videoId": early["id"],
            "title": "Early",
            "action": "unpublish",
            "scheduledFor": "2030-07-01T08:00:00.000Z",
            "timezone": "Europe/Berlin",
            "scheduledByUserId": admin_id,
        },
        {
            "jobId": f"video-{late['id']}-publish",
            "videoId": late["id"],
            "title": "Late",
            "action": "publish",
            "scheduledFor": "2030-08-01T10:00:00.000Z",
            "timezone": "UTC",
            "scheduledByUserId": admin_id,
        },
    ]
    limited = client.http.get("/api/videos/schedules/upcoming?limit=1", headers=admin_headers)
    assert [item["videoId"] for item in limited.json_body["schedules"]] == [early["id"]]
    assert client.http.get("/api/videos/schedules/upcoming?limit=0", headers=admin_headers).status_code == 400


def test_history_is_newest_first(
    client: Any, admin_headers: dict[str, str], admin_id: int, create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z")
    schedule(client, admin_headers, vid, "2030-05-02T10:00:00Z")
    response = client.http.get(f"/api/videos/{vid}/schedule-history", headers=admin_headers)

    assert response.status_code == 200
    newest, oldest = response.json_body["history"]
    assert (newest["status"], oldest["status"]) == ("pending", "cancelled")
    assert set(newest) == {
        "id",
        "action",
        "scheduledFor",
        "executedAt",
        "status",
        "error",
        "scheduledByUserId",
        "createdAt",
    }
    assert newest["scheduledFor"] == "2030-05-02T10:00:00.000Z" and newest["scheduledByUserId"] == admin_id
    assert newest["executedAt"] is None and newest["createdAt"].endswith("Z")
    assert client.http.get("/api/videos/31337/schedule-history", headers=admin_headers).status_code == 404


# --- Scheduler unavailable or misconfigured -----------------------------------------------------


def test_scheduler_down_is_503_and_database_unchanged(
    client: Any, admin_headers: dict[str, str], create_video: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    vid = create_video()["id"]
    monkeypatch.setenv("VIDEO_SCHEDULE_TARGET_ARN", "arn:aws:lambda:us-east-1:123456789012:function:f")
    monkeypatch.setenv("VIDEO_SCHEDULE_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
    point_aws_at(monkeypatch, closed_port_endpoint())

    response = schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "UTC")

    assert response.status_code == 503
    assert response.json_body["error"] == "ServiceUnavailable"
    assert history_rows(vid) == []
    assert video(client, admin_headers, vid)["scheduledPublishAt"] is None


def test_cancel_with_scheduler_down_is_503_and_keeps_the_schedule(
    client: Any, admin_headers: dict[str, str], create_video: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    vid = create_video()["id"]
    with mock_aws():
        use_resources(monkeypatch, require_endpoint=False)
        assert schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "UTC").status_code == 200
    point_aws_at(monkeypatch, closed_port_endpoint())

    response = client.http.delete(f"/api/videos/{vid}/schedule/publish", headers=admin_headers)

    assert response.status_code == 503
    assert [row["status"] for row in history_rows(vid)] == ["pending"]
    assert video(client, admin_headers, vid)["scheduledPublishAt"] == "2030-01-15T09:00:00.000Z"


def test_unconfigured_or_missing_group_is_503(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import get_settings

    vid = create_video()["id"]
    scheduler.delete_schedule_group(Name=get_settings().schedule_group_name)
    missing_group = schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "UTC")
    monkeypatch.delenv("VIDEO_SCHEDULE_TARGET_ARN")
    get_settings.cache_clear()
    unconfigured = schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "UTC")

    assert (missing_group.status_code, unconfigured.status_code) == (503, 503)
    assert "does not exist" in missing_group.json_body["message"]
    assert "VIDEO_SCHEDULE_TARGET_ARN" in unconfigured.json_body["message"]
    assert history_rows(vid) == []


# --- Database failures after the schedule exists ------------------------------------------------


def test_database_failure_after_create_deletes_the_schedule(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    with failing_video_updates():
        response = schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "UTC")

    assert response.status_code == 500
    assert schedule_names(scheduler) == []
    assert history_rows(vid) == []


def test_database_failure_after_replace_restores_the_previous_schedule(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    schedule(client, admin_headers, vid, "2030-05-01T10:00:00Z")
    before = schedule_input(scheduler, f"video-{vid}-publish")
    with failing_video_updates():
        assert schedule(client, admin_headers, vid, "2030-06-01T10:00:00Z").status_code == 500

    assert schedule_input(scheduler, f"video-{vid}-publish") == before
    assert [row["status"] for row in history_rows(vid)] == ["pending"]


# --- Health ---------------------------------------------------------------------------------------


def test_health_reports_scheduler_and_pending_count(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule(client, admin_headers, create_video()["id"], BERLIN_WINTER_NINE, "UTC")
    report = client.http.get("/api/health", headers=admin_headers).json_body

    assert report["scheduler"]["status"] == "up"
    assert report["scheduler"]["pendingSchedules"] == 1
    assert report["scheduler"]["overdueSchedules"] == 0

    point_aws_at(monkeypatch, closed_port_endpoint())
    down = client.http.get("/api/health", headers=admin_headers).json_body
    assert down["scheduler"]["status"] == "down" and down["status"] == "degraded"


def test_pending_schedules_metric_is_emitted(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.observability import metrics
    from chalicelib.services.scheduling.status import scheduler_status

    schedule(client, admin_headers, create_video()["id"], BERLIN_WINTER_NINE, "UTC")
    metrics.clear_metrics()
    scheduler_status()
    emitted: dict[str, Any] = dict(metrics.serialize_metric_set())
    metrics.clear_metrics()

    assert emitted["PendingSchedules"] in (1.0, [1.0])
    names = {metric["Name"] for metric in emitted["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"PendingSchedules", "OverdueSchedules"} <= names


def test_queue_status_lists_pending_and_failed(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    from chalicelib.services.scheduling.status import queue_status
    from scripts.schedules import render

    vid = create_video()["id"]
    schedule(client, admin_headers, vid, BERLIN_WINTER_NINE, "UTC")
    report = queue_status()

    assert [item["jobId"] for item in report["pending"]] == [f"video-{vid}-publish"]
    assert report["recentlyFailed"] == []
    assert f"video-{vid}-publish" in render(report)


def test_scheduled_for_is_truncated_to_whole_seconds(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    vid = create_video()["id"]
    response = schedule(client, admin_headers, vid, "2030-01-15T09:00:00.987654+00:00")
    assert response.json_body["scheduledFor"] == "2030-01-15T09:00:00.000Z"


def test_schedule_instant_moves_with_now(
    client: Any, admin_headers: dict[str, str], create_video: Any, scheduler: Any
) -> None:
    """A relative instant (a few minutes ahead) round-trips exactly: no clock drift in the stored value."""
    vid = create_video()["id"]
    at = in_minutes(10)
    response = schedule(client, admin_headers, vid, at)
    expected = datetime.fromisoformat(at).astimezone(UTC)
    assert datetime.fromisoformat(response.json_body["scheduledFor"]) == expected
    assert history_rows(vid)[0]["scheduled_for"] == expected
    assert expected - datetime.now(UTC) > timedelta(minutes=9)
