"""Public tracking endpoints against real PostgreSQL, through the Lambda entry point.

Requests are API Gateway proxy events fed to ``app(event, context)`` (see
``scripts/apigw.py``), because the rate limits and the stored IP hash depend on
``requestContext.identity.sourceIp``, which ``chalice.test.Client`` fixes to 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from scripts.apigw import invoke, proxy_event
from tests.support.analytics import refresh
from tests.support.api import token_for
from tests.support.database import make_user

IP = "203.0.113.77"


@pytest.fixture
def app(lambda_app: Any) -> Any:
    return lambda_app


def post(app: Any, route: str, body: Any, *, ip: str = IP, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, response_headers, payload = invoke(
        app, proxy_event("POST", f"/api/track/{route}", body=body, source_ip=ip, headers=headers)
    )
    if status == 429:
        assert int(response_headers["Retry-After"]) >= 1
    return status, payload


def sql(statement: str, **params: Any) -> list[Any]:
    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result.all()) if result.returns_rows else []


def start_view(app: Any, video_id: int, **kwargs: Any) -> tuple[int, str]:
    status, body = post(app, "view", {"videoId": video_id}, **kwargs)
    assert status == 200, body
    return body["viewId"], body["viewToken"]


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


# --- views -------------------------------------------------------------------------------


def test_view_is_recorded_with_keyed_ip_hash_and_derived_viewer_codes_only(app: Any, video: dict[str, Any]) -> None:
    headers = {
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 "
        "Safari/537.36",
        "cloudfront-viewer-country": "de",
    }
    status, body = post(app, "view", {"videoId": video["id"], "referer": "https://blog.example/post"}, headers=headers)
    assert status == 200
    assert isinstance(body["viewId"], int) and len(body["viewToken"]) >= 20
    [row] = sql(
        "SELECT user_id, ip_address, referer, watch_time_seconds, completed, device_type, browser, os, country "
        "FROM video_views"
    )
    import hashlib
    import hmac

    [(salt,)] = sql("SELECT salt FROM visitor_salts")  # today's; the visitor key is keyed, salted, per browser
    visitor = b"\0".join((bytes(salt), IP.encode(), headers["user-agent"].encode()))
    assert row[0] is None
    assert row[1] == hmac.new(b"test-ip-hash-secret", visitor, hashlib.sha256).hexdigest()
    assert row[2] == "https://blog.example/post"
    assert (row[3], row[4]) == (0, False)
    assert tuple(row[5:]) == ("desktop", "Chrome", "Linux", "DE")
    columns = {
        name for (name,) in sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'video_views'")
    }
    assert "user_agent" not in columns  # the User-Agent itself is never stored


@pytest.mark.parametrize(
    ("agent", "country", "expected"),
    [
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "US",
            ("bot", "Googlebot", "Other", "US"),
        ),
        ("curl/8.5.0", "XX", ("desktop", "curl", "Other", None)),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1",
            "fr",
            ("mobile", "Mobile Safari", "iOS", "FR"),
        ),
        (None, "not a country", (None, None, None, None)),
    ],
)
def test_view_context_comes_from_the_user_agent_and_the_edge_country(
    app: Any, video: dict[str, Any], agent: str | None, country: str, expected: tuple[Any, ...]
) -> None:
    headers = {"cloudfront-viewer-country": country, **({"user-agent": agent} if agent else {})}
    start_view(app, video["id"], headers=headers)
    [row] = sql("SELECT device_type, browser, os, country FROM video_views")
    assert tuple(row) == expected


def test_view_records_the_user_of_a_valid_token_with_consent_and_ignores_a_bad_one(
    app: Any, video: dict[str, Any]
) -> None:
    user_id = make_user(role="USER")
    body = {"videoId": video["id"], "consent": True}
    assert post(app, "view", body, headers={"authorization": f"Bearer {token_for(user_id, 'USER')}"})[0] == 200
    assert post(app, "view", body, headers={"authorization": "Bearer not-a-token"})[0] == 200
    assert sorted(row[0] or 0 for row in sql("SELECT user_id FROM video_views")) == [0, user_id]


def test_view_of_unknown_or_unpublished_video_is_404_except_for_admins(
    app: Any, create_video: Any, admin_id: int
) -> None:
    hidden = create_video(published=False)
    assert post(app, "view", {"videoId": 999_999})[0] == 404
    assert post(app, "view", {"videoId": hidden["id"]})[0] == 404
    admin = {"authorization": f"Bearer {token_for(admin_id)}"}
    assert post(app, "view", {"videoId": hidden["id"]}, headers=admin)[0] == 200
    assert sql("SELECT count(*) FROM video_views")[0][0] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"videoId": "1"}, 400),
        ({"videoId": 1.5}, 400),
        ({"videoId": True}, 400),
        ({"videoId": 0}, 422),
        ({"videoId": -3}, 422),
        ({"videoId": 2**40}, 422),
        ([1, 2], 400),
    ],
)
def test_view_validation(app: Any, body: Any, status: int) -> None:
    code, payload = post(app, "view", body)
    assert code == status, payload
    assert set(payload) == {"error", "message"}


def test_invalid_json_nan_and_oversized_bodies_are_rejected(app: Any, video: dict[str, Any]) -> None:
    assert post(app, "view", '{"videoId": ')[0] == 400
    assert post(app, "event", f'{{"videoId": {video["id"]}, "eventType": "play", "timestamp": NaN}}')[0] == 400
    assert post(app, "event", f'{{"videoId": {video["id"]}, "eventType": "play", "timestamp": 1e999}}')[0] == 400
    big = json.dumps({"videoId": video["id"], "padding": "x" * 70_000})
    assert post(app, "view", big)[0] == 413
    assert sql("SELECT count(*) FROM video_views")[0][0] == 0


# --- heartbeats --------------------------------------------------------------------------


def test_watch_time_never_decreases(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    for claimed in (10, 25, 5, 0, 20):
        assert post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": claimed})[0] == 200
    assert sql("SELECT watch_time_seconds FROM video_views")[0][0] == 25


def test_watch_time_is_capped_by_elapsed_time_and_by_duration(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 10_000})
    # Just created: at most the seconds elapsed (0-1) plus 30.
    assert 30 <= sql("SELECT watch_time_seconds FROM video_views")[0][0] <= 32
    sql("UPDATE video_views SET created_at = now() - interval '2 hours'")
    post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 10_000})
    # Two hours in: the duration cap (3 x 100 s) applies.
    assert sql("SELECT watch_time_seconds FROM video_views")[0][0] == 300


def test_a_heartbeat_more_than_48_hours_after_its_view_started_changes_nothing(app: Any, video: dict[str, Any]) -> None:
    """Such heartbeats are not counted (README, watch time), so they are not written either: 200, no change."""
    view_id, token = start_view(app, video["id"])
    beat = {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 50, "position": 10}
    sql("UPDATE video_views SET created_at = now() - interval '49 hours'")
    assert post(app, "heartbeat", beat)[0] == 200
    assert sql("SELECT watch_time_seconds, last_position_at FROM video_views") == [(0, None)]
    sql("UPDATE video_views SET created_at = now() - interval '47 hours'")
    assert post(app, "heartbeat", beat)[0] == 200
    assert sql("SELECT watch_time_seconds, last_position_at IS NOT NULL FROM video_views") == [(50, True)]


@pytest.mark.parametrize("token", [None, "", "AAAAAAAAAAAAAAAAAAAAAA", "forged"])
def test_forged_or_missing_view_token_is_403(app: Any, video: dict[str, Any], token: str | None) -> None:
    view_id, _ = start_view(app, video["id"])
    body: dict[str, Any] = {"viewId": view_id, "watchTimeSeconds": 20}
    if token is not None:
        body["viewToken"] = token
    status, payload = post(app, "heartbeat", body)
    assert status == 403, payload
    assert sql("SELECT watch_time_seconds FROM video_views")[0][0] == 0


def test_token_of_one_view_does_not_open_another(app: Any, video: dict[str, Any]) -> None:
    first, first_token = start_view(app, video["id"])
    second, _ = start_view(app, video["id"])
    assert post(app, "heartbeat", {"viewId": second, "viewToken": first_token, "watchTimeSeconds": 5})[0] == 403
    assert post(app, "heartbeat", {"viewId": first, "viewToken": first_token, "watchTimeSeconds": 5})[0] == 200


def test_token_signed_with_another_secret_is_403(app: Any, video: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib.config import get_settings
    from chalicelib.services.tracking import view_token

    view_id, _ = start_view(app, video["id"])
    monkeypatch.setenv("VIDEO_VIEW_TOKEN_SECRET", "attacker-guess")
    get_settings.cache_clear()
    forged = view_token(view_id)
    monkeypatch.setenv("VIDEO_VIEW_TOKEN_SECRET", "test-view-token-secret")
    get_settings.cache_clear()
    assert post(app, "heartbeat", {"viewId": view_id, "viewToken": forged, "watchTimeSeconds": 5})[0] == 403


def test_heartbeat_of_a_deleted_view_is_404(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    sql("DELETE FROM video_views")
    assert post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 5})[0] == 404


@pytest.mark.parametrize("watch", [-1, "10", None, 10**12])
def test_heartbeat_validation(app: Any, video: dict[str, Any], watch: Any) -> None:
    view_id, token = start_view(app, video["id"])
    assert post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": watch})[0] in (400, 422)


def test_qoe_keeps_the_first_startup_and_error_and_the_largest_counters(app: Any, video: dict[str, Any]) -> None:
    """Cumulative reports, retried and out of order, count once: first values and maxima."""
    view_id, token = start_view(app, video["id"])
    reports = [
        {},
        {"startupTimeMs": 640, "bitrateKbps": 800, "height": 360},
        {"startupTimeMs": 640, "rebufferCount": 2, "rebufferMs": 1500, "bitrateKbps": 2500, "height": 720},
        {"startupTimeMs": 9999, "rebufferCount": 1, "rebufferMs": 700, "errorCode": "hls:networkError:fragLoadError"},
        {"rebufferCount": 2, "rebufferMs": 1500, "errorCode": "MEDIA_ERR_DECODE", "height": 480},
    ]
    for qoe in reports:
        beat = {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 5, "qoe": qoe}
        assert post(app, "heartbeat", beat) == (200, {"success": True})
    row = sql(
        "SELECT startup_time_ms, rebuffer_count, rebuffer_ms, error_code, bitrate_kbps, height, qoe_at IS NOT NULL "
        "FROM video_views"
    )[0]
    assert tuple(row) == (640, 2, 1500, "hls:networkError:fragLoadError", 2500, 720, True)


def test_a_view_without_a_qoe_report_has_none(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 5})
    assert sql("SELECT qoe_at, startup_time_ms, rebuffer_count FROM video_views") == [(None, None, None)]


@pytest.mark.parametrize(
    "qoe",
    [
        {"startupTimeMs": -1},
        {"startupTimeMs": "640"},
        {"rebufferCount": 1.5},
        {"errorCode": ""},
        {"errorCode": "bad code with spaces"},
        {"errorCode": "x" * 101},
        {"height": 10**6},
        "fast",
    ],
)
def test_qoe_validation(app: Any, video: dict[str, Any], qoe: Any) -> None:
    view_id, token = start_view(app, video["id"])
    status, _ = post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 5, "qoe": qoe})
    assert status in (400, 422)
    assert sql("SELECT qoe_at FROM video_views") == [(None,)]


def test_rebuffer_time_is_capped_by_the_time_since_the_view_started(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 0, "qoe": {"rebufferMs": 10**9}})
    assert 30_000 <= sql("SELECT rebuffer_ms FROM video_views")[0][0] <= 32_000


def test_ended_ends_the_view_and_only_more_watch_time_brings_it_back(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    beat = {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 8}
    post(app, "heartbeat", beat)
    assert sql("SELECT ended_at FROM video_views") == [(None,)]
    post(app, "heartbeat", {**beat, "watchTimeSeconds": 10, "ended": True})
    ended = sql("SELECT ended_at FROM video_views")[0][0]
    assert ended is not None
    post(app, "heartbeat", beat)  # sent before the end, delivered after it: still ended
    assert sql("SELECT ended_at FROM video_views")[0][0] == ended
    post(app, "heartbeat", {**beat, "watchTimeSeconds": 12})  # the viewer plays again
    assert sql("SELECT ended_at FROM video_views") == [(None,)]


def test_a_view_token_carries_the_views_month_and_writes_go_to_its_partition(app: Any, video: dict[str, Any]) -> None:
    from chalicelib.db import fastpath

    view_id, token = start_view(app, video["id"])
    [(partition,)] = sql("SELECT tableoid::regclass::text FROM video_views")
    assert token.endswith("." + partition.removeprefix("video_views_").replace("_", ""))
    post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 5})
    post(
        app,
        "event",
        {"videoId": video["id"], "viewId": view_id, "viewToken": token, "eventType": "play", "timestamp": 0},
    )
    statements = set(fastpath.pool()._idle[0].statements)
    assert {f"track_heartbeat:{partition}", f"track_event:{partition}"} <= statements
    assert sql("SELECT watch_time_seconds FROM video_views") == [(5,)]


def test_a_token_without_a_month_still_works_through_the_partitioned_table(app: Any, video: dict[str, Any]) -> None:
    """Views in the default partition (a month nobody created), and tokens minted without a month."""
    from chalicelib.services.tracking import view_token

    view_id, token = start_view(app, video["id"])
    plain = view_token(view_id)
    assert "." not in plain and plain != token
    assert post(app, "heartbeat", {"viewId": view_id, "viewToken": plain, "watchTimeSeconds": 5})[0] == 200
    forged_month = plain + ".209901"
    assert post(app, "heartbeat", {"viewId": view_id, "viewToken": forged_month, "watchTimeSeconds": 6})[0] == 403
    assert sql("SELECT watch_time_seconds FROM video_views") == [(5,)]


# --- events ------------------------------------------------------------------------------


def test_complete_event_marks_its_view_completed(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    for kind, position in (("play", 0), ("seek", 42.5), ("pause", 60), ("complete", 100.9)):
        status, body = post(
            app,
            "event",
            {"videoId": video["id"], "viewId": view_id, "viewToken": token, "eventType": kind, "timestamp": position},
        )
        assert (status, body) == (200, {"success": True})
    assert sql("SELECT completed, ended_at IS NOT NULL FROM video_views")[0] == (True, True)
    rows = sql("SELECT event_type, timestamp, view_id FROM video_events ORDER BY id")
    assert [(row[0], float(row[1]), row[2]) for row in rows] == [
        ("play", 0.0, view_id),
        ("seek", 42.5, view_id),
        ("pause", 60.0, view_id),
        ("complete", 100.9, view_id),
    ]


def test_event_without_a_view_is_stored(app: Any, video: dict[str, Any]) -> None:
    assert post(app, "event", {"videoId": video["id"], "eventType": "play", "timestamp": 3})[0] == 200
    assert sql("SELECT view_id FROM video_events")[0][0] is None


@pytest.mark.parametrize(
    ("timestamp", "event_type", "status"),
    [(101.5, "play", 422), (-0.5, "play", 422), (10, "rewind", 422), ("10", "play", 400), (None, "play", 400)],
)
def test_event_validation(app: Any, video: dict[str, Any], timestamp: Any, event_type: str, status: int) -> None:
    body = {"videoId": video["id"], "eventType": event_type, "timestamp": timestamp}
    assert post(app, "event", body)[0] == status
    assert sql("SELECT count(*) FROM video_events")[0][0] == 0


def test_event_naming_a_view_needs_its_token_and_the_same_video(
    app: Any, video: dict[str, Any], create_video: Any
) -> None:
    other = create_video(published=True, duration=100)
    view_id, token = start_view(app, video["id"])
    complete = {"videoId": video["id"], "viewId": view_id, "eventType": "complete", "timestamp": 99}
    assert post(app, "event", complete)[0] == 403
    assert post(app, "event", {**complete, "viewToken": token, "videoId": other["id"]})[0] == 404
    assert sql("SELECT completed FROM video_views")[0][0] is False
    assert sql("SELECT count(*) FROM video_events")[0][0] == 0


# --- sendBeacon and batches --------------------------------------------------------------


def test_send_beacon_text_plain_bodies_work_on_every_route(app: Any, video: dict[str, Any]) -> None:
    beacon = {"content-type": "text/plain;charset=UTF-8"}
    status, body = post(app, "view", json.dumps({"videoId": video["id"]}), headers=beacon)
    assert status == 200, body
    view_id, token = body["viewId"], body["viewToken"]
    event = {"videoId": video["id"], "viewId": view_id, "viewToken": token, "eventType": "pause", "timestamp": 9}
    assert post(app, "event", json.dumps(event), headers=beacon)[0] == 200
    beat = {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 9}
    assert post(app, "heartbeat", json.dumps(beat), headers=beacon)[0] == 200
    batch = {"events": [{"kind": "heartbeat", **beat, "watchTimeSeconds": 12}]}
    assert post(app, "batch", json.dumps(batch), headers=beacon)[1] == {"accepted": 1, "rejected": []}
    assert sql("SELECT watch_time_seconds FROM video_views")[0][0] == 12
    assert sql("SELECT count(*) FROM video_events")[0][0] == 1


def test_batch_rejects_bad_items_only(app: Any, video: dict[str, Any]) -> None:
    view_id, token = start_view(app, video["id"])
    items = [
        {
            "kind": "event",
            "videoId": video["id"],
            "viewId": view_id,
            "viewToken": token,
            "eventType": "play",
            "timestamp": 1,
        },
        {"kind": "event", "videoId": 999_999, "eventType": "play", "timestamp": 1},  # unknown video
        {"kind": "heartbeat", "viewId": view_id, "viewToken": token, "watchTimeSeconds": 20},
        {"kind": "heartbeat", "viewId": view_id, "viewToken": "forged", "watchTimeSeconds": 25},  # bad token
        {"kind": "nope"},
        "not an object",
        {"kind": "event", "videoId": video["id"], "eventType": "play", "timestamp": 500},  # past the end
        {"kind": "heartbeat", "viewId": view_id, "viewToken": token, "watchTimeSeconds": 15},  # lower: kept max
        {
            "kind": "event",
            "videoId": video["id"],
            "viewId": view_id,
            "viewToken": token,
            "eventType": "complete",
            "timestamp": 100,
        },
        {"kind": "heartbeat", "viewId": 2_000_000, "viewToken": "x", "watchTimeSeconds": 1},  # bad token
        {"kind": "event", "videoId": video["id"], "eventType": "seek", "timestamp": -1},  # invalid
    ]
    status, body = post(app, "batch", {"events": items})
    assert status == 200, body
    assert body["accepted"] == 4
    assert [entry["index"] for entry in body["rejected"]] == [1, 3, 4, 5, 6, 9, 10]
    assert all(entry["error"] for entry in body["rejected"])
    assert sql("SELECT watch_time_seconds, completed FROM video_views") == [(20, True)]
    assert [row[0] for row in sql("SELECT event_type FROM video_events ORDER BY id")] == ["play", "complete"]


def test_batch_heartbeats_carry_qoe_and_end_views_like_single_ones(app: Any, video: dict[str, Any]) -> None:
    first, first_token = start_view(app, video["id"])
    second, second_token = start_view(app, video["id"])
    beat = {"kind": "heartbeat", "viewId": first, "viewToken": first_token, "watchTimeSeconds": 5}
    items = [
        {**beat, "qoe": {"startupTimeMs": 300, "rebufferCount": 1}},
        {**beat, "qoe": {"startupTimeMs": 900, "rebufferCount": 3, "rebufferMs": 2000, "errorCode": "NULL"}},
        {**beat, "watchTimeSeconds": 4, "ended": True},
        {"kind": "heartbeat", "viewId": second, "viewToken": second_token, "watchTimeSeconds": 2},
        {
            "kind": "heartbeat",
            "viewId": second,
            "viewToken": second_token,
            "watchTimeSeconds": 3,
            "qoe": {"height": -1},
        },
    ]
    status, body = post(app, "batch", {"events": items})
    assert status == 200, body
    assert [entry["index"] for entry in body["rejected"]] == [4]
    rows = sql(
        "SELECT id, startup_time_ms, rebuffer_count, rebuffer_ms, error_code, qoe_at IS NOT NULL, ended_at IS NOT NULL "
        "FROM video_views ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        (first, 300, 3, 2000, "NULL", True, True),
        (second, None, None, None, None, False, False),
    ]


def test_batch_limits_and_shape(app: Any, video: dict[str, Any]) -> None:
    item = {"kind": "event", "videoId": video["id"], "eventType": "play", "timestamp": 1}
    assert post(app, "batch", {"events": [item] * 50})[1] == {"accepted": 50, "rejected": []}
    assert post(app, "batch", {"events": [item] * 501})[0] == 413
    assert post(app, "batch", {"events": "x"})[0] == 400
    assert post(app, "batch", {"nothing": []})[0] == 400
    assert post(app, "batch", {"events": []})[1] == {"accepted": 0, "rejected": []}
    assert sql("SELECT count(*) FROM video_events")[0][0] == 50


# --- rate limits -------------------------------------------------------------------------


def _away_from_minute_boundary() -> None:
    """The windows are calendar minutes: do not let a burst straddle two of them."""
    if datetime.now(UTC).second >= 45:
        time.sleep(61 - datetime.now(UTC).second)


def test_exactly_the_limit_passes_when_many_threads_hit_one_ip(app: Any, video: dict[str, Any]) -> None:
    _away_from_minute_boundary()
    event = proxy_event("POST", "/api/track/view", body={"videoId": video["id"]}, source_ip="198.51.100.9")
    barrier = threading.Barrier(16)

    def hit(_: int) -> int:
        if _ < 16:
            barrier.wait()
        return invoke(app, event)[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(hit, range(160)))
    assert statuses.count(200) == 100
    assert statuses.count(429) == 60
    assert sql("SELECT count(*) FROM video_views")[0][0] == 100
    # Another IP has its own budget.
    assert post(app, "view", {"videoId": video["id"]}, ip="198.51.100.10")[0] == 200


def test_rate_limited_answer_has_retry_after_and_writes_nothing(app: Any, video: dict[str, Any]) -> None:
    _away_from_minute_boundary()
    item = {"kind": "event", "videoId": video["id"], "eventType": "play", "timestamp": 1}
    statuses = [post(app, "batch", {"events": [item]}, ip="198.51.100.20")[0] for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    status, headers, body = invoke(
        app, proxy_event("POST", "/api/track/batch", body={"events": [item]}, source_ip="198.51.100.20")
    )
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
    assert body["error"] == "TooManyRequests"
    assert sql("SELECT count(*) FROM video_events")[0][0] == 20
    assert sql("SELECT count(*) FROM rate_limit_counters WHERE client_key LIKE '198.51%'")[0][0] == 0


# --- privacy -----------------------------------------------------------------------------


def test_the_ip_text_appears_nowhere_in_the_database(app: Any, video: dict[str, Any]) -> None:
    ip = "192.0.2.123"
    view_id, token = start_view(app, video["id"], ip=ip)
    post(app, "heartbeat", {"viewId": view_id, "viewToken": token, "watchTimeSeconds": 5}, ip=ip)
    post(app, "event", {"videoId": video["id"], "eventType": "play", "timestamp": 1}, ip=ip)
    post(app, "batch", {"events": []}, ip=ip)
    refresh()  # the roll-ups too
    tables = ("video_views", "video_events", "rate_limit_counters", "analytics_hours", "analytics_referrers", "videos")
    dump = " ".join(
        str(row)
        for table in (*tables, "analytics_days", "analytics_totals", "users")
        for row in sql(f"SELECT t::text FROM {table} t")
    )
    assert video["title"] in dump  # the dump really holds the rows
    assert ip not in dump and "192.0.2" not in dump


def test_no_ip_is_stored_when_hashing_is_disabled(app: Any, video: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("VIDEO_ANALYTICS_IP_HASHING_ENABLED", "false")
    get_settings.cache_clear()
    start_view(app, video["id"])
    assert sql("SELECT ip_address FROM video_views") == [(None,)]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://blog.example/post?session=abc123&token=eyJ#comments", "https://blog.example/post"),
        ("https://user:password@Blog.Example:8443/a/b?x=1", "https://blog.example:8443/a/b"),
        ("http://news.example", "http://news.example/"),
        ("https://[2001:db8::1]/p?q", "https://[2001:db8::1]/p"),
        ("https://shop.example/app;jsessionid=1A2B3C4D/watch?x=1", "https://shop.example/app/watch"),
        ("https://mail.example/u/ann%40mail.example/videos", "https://mail.example/u/videos"),
        ("https://site.example/reset/3f2a9b7c1d0e4f5a6b7c8d9e0f1a2b3c", "https://site.example/reset"),
        ("android-app://com.example.app/", None),
        ("javascript:alert(1)", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_only_scheme_host_and_path_of_a_referrer_are_stored(
    app: Any, video: dict[str, Any], given: str, stored: str | None
) -> None:
    """A query string, a fragment, a path's ;parameters or a segment that looks like an address or a token can
    carry a session id or a preview token: never stored (docs/privacy.md)."""
    status, _ = post(app, "view", {"videoId": video["id"], "referer": given})
    assert status == 200
    assert sql("SELECT referer FROM video_views")[0][0] == stored


def test_top_referrers_never_show_a_query_string(
    app: Any, video: dict[str, Any], client: Any, admin_headers: dict[str, str]
) -> None:
    for token in ("a", "b", "c"):
        post(app, "view", {"videoId": video["id"], "referer": f"https://site.example/watch?preview={token}"})
    report = client.http.get(f"/api/videos/{video['id']}/analytics", headers=admin_headers).json_body
    assert report["topReferrers"] == [{"referer": "https://site.example/watch", "views": 3}]
