"""Position samples, live viewers and audience retention, against real PostgreSQL.

Real-time players over HTTP are in ``tests/integration/test_live_players.py``; here the
time between samples is set by moving a view's last sample back, so each rule is tested
on its own: played spans, seeks, pauses without an event, batches, folding twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.apigw import invoke, proxy_event
from tests.support.analytics import refresh, report
from tests.support.database import sql


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


def post(app: Any, route: str, body: Any, ip: str = "203.0.113.7", headers: dict[str, str] | None = None) -> Any:
    status, _, payload = invoke(
        app, proxy_event("POST", f"/api/track/{route}", body=body, source_ip=ip, headers=headers)
    )
    return status, payload


def start(app: Any, video_id: int, ip: str = "203.0.113.7") -> dict[str, Any]:
    status, body = post(app, "view", {"videoId": video_id}, ip)
    assert status == 200, body
    return {"viewId": body["viewId"], "viewToken": body["viewToken"]}


def seconds_pass(view: dict[str, Any], seconds: float) -> None:
    """As if ``seconds`` had passed since the view's last sample (and last activity)."""
    sql(
        """UPDATE video_views SET created_at = created_at - make_interval(secs => :s),
               last_position_at = last_position_at - make_interval(secs => :s),
               last_seen_at = last_seen_at - make_interval(secs => :s) WHERE id = :id""",
        s=seconds,
        id=view["viewId"],
    )


def beat(app: Any, view: dict[str, Any], position: float | None, watch: float = 1) -> tuple[int, Any]:
    body = {**view, "watchTimeSeconds": watch}
    if position is not None:
        body["position"] = position
    return post(app, "heartbeat", body)


def played(view: dict[str, Any]) -> str:
    return str(sql("SELECT played FROM video_views WHERE id = :id", id=view["viewId"])[0][0] or "0" * 100)


def hundredths(bits: str) -> list[int]:
    return [index for index, bit in enumerate(bits) if bit == "1"]


def test_a_span_counts_when_the_position_advanced_about_as_much_as_time(lambda_app: Any, video: dict[str, Any]) -> None:
    view = start(lambda_app, video["id"])
    seconds_pass(view, 10)
    assert beat(lambda_app, view, 10)[0] == 200  # 0 -> 10 s in 10 s: played
    assert hundredths(played(view)) == list(range(11))
    seconds_pass(view, 1)
    status, _ = post(lambda_app, "event", {"videoId": video["id"], **view, "eventType": "seek", "timestamp": 50})
    assert status == 200 and hundredths(played(view)) == list(range(11))  # a seek fills nothing
    seconds_pass(view, 5)
    beat(lambda_app, view, 55)
    assert hundredths(played(view)) == [*range(11), *range(50, 56)]
    seconds_pass(view, 60)
    beat(lambda_app, view, 60)  # 5 s of video in 60 s: paused without telling, nothing counted
    seconds_pass(view, 10)
    beat(lambda_app, view, 90)  # 30 s in 10 s: faster than 2x, a seek
    assert hundredths(played(view)) == [*range(11), *range(50, 56)]
    seconds_pass(view, 5)
    beat(lambda_app, view, None)  # no position: alive, not a sample
    seconds_pass(view, 5)
    beat(lambda_app, view, 100)  # 10 s in 10 s since the last sample
    assert hundredths(played(view)) == [*range(11), *range(50, 56), *range(90, 100)]


@pytest.mark.parametrize("position", [101.5, -1, "12"])
def test_a_position_outside_the_video_is_a_400(lambda_app: Any, video: dict[str, Any], position: Any) -> None:
    view = start(lambda_app, video["id"])
    status, body = beat(lambda_app, view, position)
    assert status == 400, body
    assert played(view) == "0" * 100


def test_a_batch_counts_each_views_last_position_and_rejects_one_past_the_end(
    lambda_app: Any, video: dict[str, Any]
) -> None:
    view = start(lambda_app, video["id"])
    seconds_pass(view, 20)
    items = [
        {"kind": "heartbeat", **view, "watchTimeSeconds": 10, "position": 10},
        {"kind": "heartbeat", **view, "watchTimeSeconds": 20, "position": 20},
        {"kind": "heartbeat", **view, "watchTimeSeconds": 20, "position": 150},
    ]
    status, body = post(lambda_app, "batch", {"events": items})
    assert status == 200, body
    assert body["rejected"] == [{"index": 2, "status": 400, "error": "position is beyond the end of the video"}]
    assert hundredths(played(view)) == list(range(21))


def test_live_viewers_are_those_heard_from_in_the_last_30_seconds(
    lambda_app: Any, client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
) -> None:
    other = create_video(published=True, title="Other")
    views = [start(lambda_app, video["id"], ip=f"203.0.113.{n}") for n in range(3)]
    start(lambda_app, other["id"])
    seconds_pass(views[0], 31)  # gone quiet
    seconds_pass(views[1], 31)
    beat(lambda_app, views[1], None)  # ... but a heartbeat brings it back
    status, _ = post(
        lambda_app, "view", {"videoId": video["id"]}, headers={"Authorization": admin_headers["Authorization"]}
    )
    assert status == 200  # a team view: left out unless asked for
    one = report(client, admin_headers, f"/api/videos/{video['id']}/analytics/live")
    assert (one["videoId"], one["concurrentViewers"]) == (video["id"], 2)
    assert (
        report(client, admin_headers, f"/api/videos/{video['id']}/analytics/live", includeTeam="true")[
            "concurrentViewers"
        ]
        == 3
    )
    library = report(client, admin_headers, "/api/videos/analytics/live")
    assert library["concurrentViewers"] == 3
    assert [(v["id"], v["concurrentViewers"]) for v in library["videos"]] == [(video["id"], 2), (other["id"], 1)]
    assert "30 seconds" in library["definitions"]["concurrentViewers"]
    assert client.http.get("/api/videos/999/analytics/live", headers=admin_headers).status_code == 404


def test_a_viewer_who_leaves_or_completes_is_not_live_at_once_and_bots_never_are(
    lambda_app: Any, client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    """ended (pagehide, the end of the video) and the complete event end a view: the next poll drops it."""
    leaving, completing, staying = (start(lambda_app, video["id"], ip=f"203.0.113.{n}") for n in range(3))
    bot = {"user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    assert post(lambda_app, "view", {"videoId": video["id"]}, headers=bot)[0] == 200
    live = f"/api/videos/{video['id']}/analytics/live"
    assert report(client, admin_headers, live)["concurrentViewers"] == 3
    assert post(lambda_app, "heartbeat", {**leaving, "watchTimeSeconds": 1, "ended": True})[0] == 200
    complete = {"videoId": video["id"], **completing, "eventType": "complete", "timestamp": 100}
    assert post(lambda_app, "event", complete)[0] == 200
    assert report(client, admin_headers, live)["concurrentViewers"] == 1
    assert report(client, admin_headers, "/api/videos/analytics/live")["concurrentViewers"] == 1
    assert beat(lambda_app, staying, None)[0] == 200


def test_a_view_started_longer_ago_than_the_live_horizon_is_not_live(
    lambda_app: Any, client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    """The horizon bounds the live scan (``LIVE_HORIZON_HOURS``); both views here were heard from just now."""
    from chalicelib.domain.audience import LIVE_HORIZON_HOURS

    old, recent = (start(lambda_app, video["id"], ip=f"203.0.113.{n}") for n in (1, 2))
    for view, minutes in ((old, LIVE_HORIZON_HOURS * 60 + 1), (recent, LIVE_HORIZON_HOURS * 60 - 1)):
        sql(
            "UPDATE video_views SET created_at = created_at - make_interval(mins => :m) WHERE id = :id",
            m=minutes,
            id=view["viewId"],
        )
        assert beat(lambda_app, view, None)[0] == 200
    assert sql("SELECT count(*) FROM video_views WHERE last_seen_at > now() - interval '30 seconds'") == [(2,)]
    assert report(client, admin_headers, f"/api/videos/{video['id']}/analytics/live")["concurrentViewers"] == 1
    assert report(client, admin_headers, "/api/videos/analytics/live")["concurrentViewers"] == 1


def test_retention_is_the_same_raw_and_folded_and_folding_twice_counts_nothing_twice(
    lambda_app: Any, client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    first, second = start(lambda_app, video["id"], "203.0.113.1"), start(lambda_app, video["id"], "203.0.113.2")
    start(lambda_app, video["id"], "203.0.113.3")  # never played
    for view, until in ((first, 50), (second, 20)):
        seconds_pass(view, until)
        beat(lambda_app, view, until)
    path = f"/api/videos/{video['id']}/analytics/retention"
    raw = report(client, admin_headers, path)
    for _ in range(2):
        refresh()
        assert {**report(client, admin_headers, path), "asOf": None} == {**raw, "asOf": None}
    assert (raw["views"], raw["duration"]) == (3, 100)
    assert [point["viewers"] for point in raw["points"][::10]] == [2, 2, 2, 1, 1, 1, 0, 0, 0, 0]
    assert raw["points"][0] == {"percent": 0, "viewers": 2, "ratio": 0.6667}
    assert sql("SELECT count(*) FROM analytics_audience_days") == [(1,)]
    # Later progress of a folded view adds only what is new.
    seconds_pass(second, 30)
    beat(lambda_app, second, 50)
    refresh()
    later = report(client, admin_headers, path)
    assert [point["viewers"] for point in later["points"][::10]] == [2, 2, 2, 2, 2, 2, 0, 0, 0, 0]


def test_retention_needs_a_video_and_a_sane_range(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    path = f"/api/videos/{video['id']}/analytics/retention"
    assert client.http.get("/api/videos/999/analytics/retention", headers=admin_headers).status_code == 404
    bad = client.http.get(f"{path}?startDate=2026-03-05&endDate=2026-03-01", headers=admin_headers)
    assert bad.status_code == 400
    empty = report(client, admin_headers, path)
    assert empty["views"] == 0 and {point["ratio"] for point in empty["points"]} == {0}
