"""Every way to write tracking obeys the same rules: a batch spends the single routes' per-IP budgets
item by item, no write changes a view older than 48 hours, and a write racing the deletion of its
video is a 404 that leaves nothing behind, never a 500."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from scripts.apigw import invoke, proxy_event
from tests.support.api import token_for
from tests.support.database import sql


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


def post(app: Any, route: str, body: Any, ip: str) -> tuple[int, dict[str, str], Any]:
    return invoke(app, proxy_event("POST", f"/api/track/{route}", body=body, source_ip=ip))


def one_window() -> None:
    """The budgets are calendar minutes: keep a burst inside one."""
    if datetime.now(UTC).second >= 40:
        time.sleep(61 - datetime.now(UTC).second)


def test_a_batch_spends_the_event_budget_item_by_item(lambda_app: Any, video: dict[str, Any]) -> None:
    one_window()
    ip = "198.51.100.31"
    item = {"kind": "event", "videoId": video["id"], "eventType": "play", "timestamp": 1}
    status, headers, answer = post(lambda_app, "batch", {"events": [item] * 150}, ip)
    assert status == 200
    assert answer["accepted"] == 100
    assert [entry["index"] for entry in answer["rejected"]] == list(range(100, 150))
    assert {entry["status"] for entry in answer["rejected"]} == {429}
    assert 1 <= int(headers["Retry-After"]) <= 60
    # The single route shares the budget: it is spent.
    assert post(lambda_app, "event", item, ip)[0] == 429
    assert sql("SELECT count(*) FROM video_events") == [(100,)]
    # Another address has a budget of its own.
    assert post(lambda_app, "batch", {"events": [item] * 3}, "198.51.100.32")[2] == {"accepted": 3, "rejected": []}


def test_a_batch_spends_the_heartbeat_budget_and_single_requests_count_first(
    lambda_app: Any, video: dict[str, Any]
) -> None:
    one_window()
    ip = "198.51.100.33"
    _, _, view = post(lambda_app, "view", {"videoId": video["id"]}, ip)
    beat = {"viewId": view["viewId"], "viewToken": view["viewToken"], "watchTimeSeconds": 1}
    for _ in range(50):
        assert post(lambda_app, "heartbeat", beat, ip)[0] == 200
    status, headers, answer = post(lambda_app, "batch", {"events": [{"kind": "heartbeat", **beat}] * 200}, ip)
    assert status == 200 and answer["accepted"] == 150 and len(answer["rejected"]) == 50
    assert "Retry-After" in headers
    assert answer["rejected"][0] == {
        "index": 150,
        "status": 429,
        "error": "Too many requests: this client's per-minute limit for this kind of item is used up",
    }


def test_items_refused_before_the_database_do_not_spend_the_budget(lambda_app: Any, video: dict[str, Any]) -> None:
    one_window()
    ip = "198.51.100.34"
    bad = {"kind": "event", "videoId": video["id"], "eventType": "jump", "timestamp": 1}
    good = {"kind": "event", "videoId": video["id"], "eventType": "play", "timestamp": 1}
    status, headers, answer = post(lambda_app, "batch", {"events": [bad] * 300 + [good] * 100}, ip)
    assert status == 200 and answer["accepted"] == 100 and "Retry-After" not in headers
    assert {entry["status"] for entry in answer["rejected"]} == {422}  # what /track/event answers "jump"


def test_each_rejection_says_what_the_single_route_would_have_answered(lambda_app: Any, video: dict[str, Any]) -> None:
    _, _, view = post(lambda_app, "view", {"videoId": video["id"]}, "198.51.100.35")
    ids = {"viewId": view["viewId"], "viewToken": view["viewToken"]}
    items = [
        {"kind": "event", "videoId": 999_999, "eventType": "play", "timestamp": 1},
        {"kind": "event", "videoId": video["id"], "eventType": "play", "timestamp": 500},
        {"kind": "heartbeat", "viewId": view["viewId"], "viewToken": "forged", "watchTimeSeconds": 1},
        {"kind": "heartbeat", **ids, "watchTimeSeconds": 1, "position": 400},
        {"kind": "nope"},
    ]
    _, _, answer = post(lambda_app, "batch", {"events": items}, "198.51.100.35")
    assert [(entry["index"], entry["status"]) for entry in answer["rejected"]] == [
        (0, 404),
        (1, 422),
        (2, 403),
        (3, 400),
        (4, 400),
    ]


# --- the 48-hour rule ---------------------------------------------------------------------------


def _old_view(video_id: int, hours: int) -> dict[str, Any]:
    from chalicelib.services.tracking import view_token

    at = datetime.now(UTC) - timedelta(hours=hours)
    [(view_id,)] = sql(
        "INSERT INTO video_views (video_id, created_at) VALUES (:video, :at) RETURNING id", video=video_id, at=at
    )
    return {"viewId": view_id, "viewToken": view_token(view_id)}


def test_no_way_of_writing_changes_a_view_older_than_48_hours(lambda_app: Any, create_video: Any) -> None:
    video = create_video(published=True, duration=1000)
    old = _old_view(video["id"], 49)
    fresh = _old_view(video["id"], 1)
    ip = "198.51.100.36"
    for ids in (old, fresh):
        complete = {"videoId": video["id"], **ids, "eventType": "complete", "timestamp": 30}
        beat = {**ids, "watchTimeSeconds": 1700, "position": 30, "ended": True}
        assert post(lambda_app, "heartbeat", beat, ip)[0] == 200
        assert post(lambda_app, "event", complete, ip)[0] == 200
        batch = {"events": [{"kind": "heartbeat", **beat}, {"kind": "event", **complete}]}
        assert post(lambda_app, "batch", batch, ip)[2] == {"accepted": 2, "rejected": []}
    rows = sql(
        "SELECT id, watch_time_seconds, completed, ended_at IS NOT NULL, last_position FROM video_views ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        (old["viewId"], 0, False, False, None),  # untouched: its events are stored, the view is not changed
        (fresh["viewId"], 1700, True, True, Decimal("30.00")),
    ]
    assert sql("SELECT count(*) FROM video_events WHERE view_id = :view", view=old["viewId"]) == [(2,)]


# --- writes racing the deletion of their video --------------------------------------------------


def test_tracking_writes_racing_a_video_deletion_are_404_and_leave_nothing(
    lambda_app: Any, create_video: Any, admin_id: int
) -> None:
    """Each round starts 40 writers on a video, then deletes it while they run; no answer may be a 500."""
    admin = {"authorization": f"Bearer {token_for(admin_id)}"}
    statuses: list[int] = []
    for round_number in range(8):
        video = create_video(published=True, duration=100)
        ip = f"198.51.101.{round_number}"
        _, _, view = post(lambda_app, "view", {"videoId": video["id"]}, ip)
        ids = {"viewId": view["viewId"], "viewToken": view["viewToken"]}
        writes = [
            ("view", {"videoId": video["id"]}),
            ("event", {"videoId": video["id"], **ids, "eventType": "play", "timestamp": 1}),
            ("heartbeat", {**ids, "watchTimeSeconds": 3}),
            ("batch", {"events": [{"kind": "event", "videoId": video["id"], "eventType": "seek", "timestamp": 2}]}),
        ] * 10
        delete = proxy_event(
            "DELETE", "/api/videos/{video_id}", headers=admin, path_parameters={"video_id": str(video["id"])}
        )
        with ThreadPoolExecutor(max_workers=8) as pool:
            # The deletion is queued amid the writes: some run before it, some beside it, some after.
            futures = [pool.submit(post, lambda_app, route, body, ip) for route, body in writes[:20]]
            deleted = pool.submit(invoke, lambda_app, delete)
            futures += [pool.submit(post, lambda_app, route, body, ip) for route, body in writes[20:]]
            statuses += [future.result()[0] for future in futures]
            assert deleted.result()[0] == 204
        assert sql("SELECT count(*) FROM video_views WHERE video_id = :v", v=video["id"]) == [(0,)]
        assert sql("SELECT count(*) FROM video_events WHERE video_id = :v", v=video["id"]) == [(0,)]
    assert set(statuses) <= {200, 404}, sorted(set(statuses))
    assert 404 in statuses  # the deletions did land among the writes
