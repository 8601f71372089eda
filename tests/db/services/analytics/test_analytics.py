"""Admin analytics on hand-built data sets in real PostgreSQL.

Most report tests run twice: once on raw rows only (nothing folded yet: every row is in
the tail) and once after the refresh folded everything into roll-ups. The answers must
be the same, which is the whole contract of ``services.analytics.combine``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.analytics import add_event, add_view, refresh, report, scheduled_event, without_freshness
from tests.support.api import token_for
from tests.support.database import make_user, sql


def assert_totals_are_the_sums_of_the_hours() -> None:
    """The refresh adds each step's change to the totals: they must always equal a full recount."""
    summed = "SELECT scope_id, team, sum(views), sum(watch_time_seconds), sum(completed_views) FROM analytics_hours"
    hours = sql(f"{summed} GROUP BY 1, 2 HAVING sum(views) > 0 OR sum(play_events) > 0 ORDER BY 1, 2")
    kept = sql("SELECT scope_id, team, views, watch_time_seconds, completed_views FROM analytics_totals ORDER BY 1, 2")
    assert [tuple(row) for row in kept if any(row[2:])] == [tuple(row) for row in hours if any(row[2:])]


def analytics(client: Any, headers: dict[str, str], video_id: int, **params: Any) -> Any:
    return report(client, headers, f"/api/videos/{video_id}/analytics", **params)


# --- the seed's own example --------------------------------------------------------------


def test_seed_example_aggregates_to_the_seed_numbers(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    add_view(video["id"], watch=100, completed=True)
    add_view(video["id"], watch=50, completed=False)
    settle()
    response = client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers, body=b"{}")
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["success"] is True
    assert body["analytics"] == {
        "videoId": video["id"],
        "totalViews": 2,
        "uniqueViewers": 2,
        "uniqueViewersExact": True,
        "totalWatchTimeSeconds": 150,
        "averageWatchTimeSeconds": 75.0,
        "completionRate": 50.0,
        "completedViews": 1,
    }
    stored = report(client, admin_headers, f"/api/videos/{video['id']}")
    assert (stored["uniqueViewers"], stored["totalWatchTimeSeconds"]) == (2, 150)
    assert (stored["averageWatchTimeSeconds"], stored["completionRate"]) == (75.0, 50.0)


def test_unique_viewers_are_users_else_ip_hashes(video: dict[str, Any], settle: Callable[[], None]) -> None:
    from chalicelib.services.analytics.reports import aggregate_video

    alice, bob = make_user(role="USER"), make_user(role="USER")
    add_view(video["id"], user_id=alice, ip="a" * 64)
    add_view(video["id"], user_id=alice, ip="b" * 64)  # same user, other network: one viewer
    add_view(video["id"], user_id=bob)
    add_view(video["id"], ip="c" * 64)
    add_view(video["id"], ip="c" * 64)  # same anonymous IP: one viewer
    add_view(video["id"], ip="d" * 64)
    add_view(video["id"])  # neither (IP hashing disabled): a viewer of its own
    settle()
    result = aggregate_video(video["id"])
    assert (result.figures.views, result.viewers.viewers, result.viewers.exact) == (7, 5, True)


# --- per-video report --------------------------------------------------------------------


def test_report_with_day_series_zero_days_events_and_referrers(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any, settle: Callable[[], None]
) -> None:
    other = create_video(published=True)
    day1 = datetime(2026, 3, 1, 10, tzinfo=UTC)
    day3 = datetime(2026, 3, 3, 23, 59, tzinfo=UTC)
    first = add_view(video["id"], watch=30, ip="a" * 64, referer="https://a.example", at=day1)
    add_view(video["id"], watch=90, completed=True, ip="a" * 64, referer="https://a.example", at=day1)
    add_view(video["id"], watch=60, ip="b" * 64, referer="https://b.example", at=day3)
    add_view(video["id"], watch=999, at=datetime(2026, 3, 5, tzinfo=UTC))  # outside the range
    add_view(other["id"], watch=500, at=day1)  # another video
    for kind in ("play", "play", "pause", "seek", "complete"):
        add_event(video["id"], kind, view_id=first, at=day1)
    add_event(video["id"], "play", at=datetime(2026, 3, 9, tzinfo=UTC))  # outside the range
    settle()

    body = analytics(client, admin_headers, video["id"], startDate="2026-03-01", endDate="2026-03-04")
    assert body["videoId"] == video["id"]
    assert (body["totalViews"], body["uniqueViewers"], body["uniqueViewersExact"]) == (3, 2, True)
    assert body["totalWatchTimeSeconds"] == 180
    assert (body["averageWatchTimeSeconds"], body["completionRate"], body["completedViews"]) == (60.0, 33.33, 1)
    assert body["eventCounts"] == {"play": 2, "pause": 1, "seek": 1, "complete": 1}
    zero = {
        "views": 0,
        "uniqueViewers": 0,
        "uniqueViewersExact": True,
        "watchTimeSeconds": 0,
        "completedViews": 0,
        "peakConcurrentViewers": 0,
    }
    assert body["viewsByDay"] == [
        {"date": "2026-03-01", "views": 2, "uniqueViewers": 1, "uniqueViewersExact": True, "watchTimeSeconds": 120,
         "completedViews": 1, "peakConcurrentViewers": 2},
        {"date": "2026-03-02", **zero},
        {"date": "2026-03-03", "views": 1, "uniqueViewers": 1, "uniqueViewersExact": True, "watchTimeSeconds": 60,
         "completedViews": 0, "peakConcurrentViewers": 1},
        {"date": "2026-03-04", **zero},
    ]  # fmt: skip
    assert body["viewsByHour"] == []
    assert body["topReferrers"] == [
        {"referer": "https://a.example", "views": 2},
        {"referer": "https://b.example", "views": 1},
    ]
    assert (body["tz"], body["interval"], body["includeTeam"]) == ("UTC", "day", False)


def test_raw_and_folded_answers_are_the_same_and_refolding_changes_nothing(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    for hours_ago, ip in ((80, "a"), (50, "b"), (30, "a"), (5, "c"), (0, "d")):
        view = add_view(video["id"], watch=10 + hours_ago, ip=ip * 64, referer=f"https://{ip}.example",
                        at=now - timedelta(hours=hours_ago, minutes=1))  # fmt: skip
        add_event(video["id"], "play", view_id=view, at=now - timedelta(hours=hours_ago))
    queries = [{}, {"tz": "Asia/Tokyo"}, {"interval": "hour"}, {"tz": "America/Los_Angeles", "interval": "hour"}]
    raw = [without_freshness(analytics(client, admin_headers, video["id"], **query)) for query in queries]
    for _ in range(3):  # the second refresh also builds the zones asked for by the first reports
        refresh()
        folded = [without_freshness(analytics(client, admin_headers, video["id"], **query)) for query in queries]
        assert folded == raw
    assert sql("SELECT count(*) FROM analytics_days WHERE zone = 'Asia/Tokyo'") != [(0,)]


def test_report_without_dates_spans_first_data_day_to_today(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    add_view(video["id"], watch=10, at=datetime.now(UTC) - timedelta(days=2))
    settle()
    body = analytics(client, admin_headers, video["id"])
    assert [day["views"] for day in body["viewsByDay"]] == [1, 0, 0]
    assert body["viewsByDay"][-1]["date"] == datetime.now(UTC).date().isoformat()
    empty = analytics(client, admin_headers, video["id"], startDate="2020-01-01", endDate="2020-01-02")
    assert empty["totalViews"] == 0 and empty["averageWatchTimeSeconds"] == 0 and empty["completionRate"] == 0
    assert len(empty["viewsByDay"]) == 2


def test_an_event_before_the_first_view_does_not_start_all_time_early(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    add_event(video["id"], "play", at=datetime.now(UTC) - timedelta(days=5))  # a player's event with no view
    add_view(video["id"], watch=10, at=datetime.now(UTC) - timedelta(days=2))
    settle()
    body = analytics(client, admin_headers, video["id"])
    assert [day["views"] for day in body["viewsByDay"]] == [1, 0, 0]


@pytest.mark.parametrize(
    "query",
    [
        "startDate=yesterday",
        "startDate=2026-02-30",
        "startDate=2026-03-05&endDate=2026-03-01",
        "startDate=1900-01-01",
        "tz=Mars/Olympus_Mons",
        "tz=",
        "tz=posix/Europe/Berlin",
        "interval=week",
        "interval=hour&startDate=2026-03-01&endDate=2026-03-08",
        "includeTeam=maybe",
    ],
)
def test_report_rejects_bad_ranges(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], query: str
) -> None:
    response = client.http.get(f"/api/videos/{video['id']}/analytics?{query}", headers=admin_headers)
    assert response.status_code == 400, response.body
    assert response.json_body["error"] == "BadRequest"


def test_analytics_routes_need_an_admin_and_a_video(client: Any, admin_headers: dict[str, str]) -> None:
    user = {"Authorization": f"Bearer {token_for(make_user(role='USER'), 'USER')}"}
    assert client.http.get("/api/videos/analytics/overview").status_code == 401
    assert client.http.get("/api/videos/analytics/overview", headers=user).status_code == 403
    assert client.http.get("/api/videos/4242/analytics", headers=admin_headers).status_code == 404
    assert client.http.get("/api/videos/4242/analytics/viewers", headers=admin_headers).status_code == 404
    assert client.http.post("/api/videos/4242/analytics/aggregate", headers=admin_headers).status_code == 404
    assert client.http.post("/api/videos/4242/reset-analytics", headers=admin_headers).status_code == 404
    assert client.http.get("/api/videos/abc/analytics", headers=admin_headers).status_code == 400


# --- local-time days ---------------------------------------------------------------------


def test_a_view_tracked_over_http_lands_on_the_zones_own_calendar_day(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    """Whatever the hour, one of UTC+14 and UTC-11 is on another calendar day than UTC."""
    now = datetime.now(UTC)
    zone, shift = ("Pacific/Kiritimati", 1) if now.hour >= 10 else ("Pacific/Pago_Pago", -1)
    response = client.http.post(
        "/api/track/view", headers={"Content-Type": "application/json"}, body=f'{{"videoId": {video["id"]}}}'.encode()
    )
    assert response.status_code == 200, response.body
    utc_day = datetime.now(UTC).date()
    local_day = (utc_day + timedelta(days=shift)).isoformat()

    def days_with_views(**params: Any) -> list[str]:
        body = analytics(client, admin_headers, video["id"], **params)
        return [point["date"] for point in body["viewsByDay"] if point["views"]]

    for _ in range(3):  # raw; folded (days from hours); folded with the zone's days materialised
        assert days_with_views(tz=zone) == [local_day]
        assert days_with_views() == [utc_day.isoformat()]
        assert days_with_views(tz=zone, startDate=utc_day.isoformat(), endDate=utc_day.isoformat()) == []
        refresh()


def test_days_follow_daylight_saving_time(client: Any, admin_headers: dict[str, str], video: dict[str, Any]) -> None:
    """New York's 2026-03-08 has 23 hours and 2026-11-01 has 25; views fall on the local day they started."""
    add_view(video["id"], at=datetime(2026, 3, 8, 4, 30, tzinfo=UTC))  # 23:30 EST on the 7th
    add_view(video["id"], at=datetime(2026, 3, 8, 5, 30, tzinfo=UTC))  # 00:30 EST on the 8th
    add_view(video["id"], at=datetime(2026, 3, 9, 3, 30, tzinfo=UTC))  # 23:30 EDT on the 8th
    add_view(video["id"], at=datetime(2026, 11, 2, 4, 30, tzinfo=UTC))  # 23:30 EST on 11-01
    for _ in range(2):
        spring = analytics(client, admin_headers, video["id"], tz="America/New_York", startDate="2026-03-07",
                           endDate="2026-03-08")  # fmt: skip
        assert [(day["date"], day["views"]) for day in spring["viewsByDay"]] == [("2026-03-07", 1), ("2026-03-08", 2)]
        hours = analytics(client, admin_headers, video["id"], tz="America/New_York", interval="hour",
                          startDate="2026-03-08", endDate="2026-03-08")["viewsByHour"]  # fmt: skip
        assert len(hours) == 23
        assert (hours[0]["hour"], hours[2]["hour"]) == ("2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00")
        assert [hour["hour"][11:13] for hour in hours if hour["views"]] == ["00", "23"]
        autumn = analytics(client, admin_headers, video["id"], tz="America/New_York", interval="hour",
                           startDate="2026-11-01", endDate="2026-11-01")["viewsByHour"]  # fmt: skip
        assert len(autumn) == 25 and autumn[-1]["views"] == 1
        refresh()


def test_half_hour_zones_start_their_days_at_the_utc_hour(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    """India is UTC+5:30: its midnight is taken at 18:00 UTC, so 23:45 local (18:15 UTC) counts on the next day."""
    add_view(video["id"], at=datetime(2026, 3, 1, 18, 15, tzinfo=UTC))
    add_view(video["id"], at=datetime(2026, 3, 1, 17, 59, tzinfo=UTC))
    refresh()
    body = analytics(client, admin_headers, video["id"], tz="Asia/Kolkata", startDate="2026-03-01",
                     endDate="2026-03-02")  # fmt: skip
    assert [(day["date"], day["views"]) for day in body["viewsByDay"]] == [("2026-03-01", 1), ("2026-03-02", 1)]
    assert body["tz"] == "Asia/Kolkata"
    linked = analytics(client, admin_headers, video["id"], tz="Asia/Calcutta", startDate="2026-03-01")
    assert linked["tz"] == "Asia/Kolkata"  # a link is answered under its canonical name


def test_an_hourly_report_defaults_to_the_last_seven_days(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    add_view(video["id"], ip="a" * 64, at=datetime.now(UTC) - timedelta(days=30))
    add_view(video["id"], ip="a" * 64)
    add_view(video["id"], ip="b" * 64)
    settle()
    body = analytics(client, admin_headers, video["id"], interval="hour")
    assert body["viewsByDay"] == [] and body["interval"] == "hour"
    assert 24 * 7 - 1 <= len(body["viewsByHour"]) <= 24 * 7 + 1  # DST weeks have an hour less or more
    assert (body["totalViews"], body["uniqueViewers"]) == (2, 2)
    assert sum(hour["views"] for hour in body["viewsByHour"]) == 2


# --- honest numbers: team views, definitions, freshness, estimates --------------------------


def test_team_views_are_left_out_unless_asked_for(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    viewer = {"Content-Type": "application/json"}
    body = f'{{"videoId": {video["id"]}}}'.encode()
    for headers in (viewer, admin_headers, admin_headers):
        assert client.http.post("/api/track/view", headers=headers, body=body).status_code == 200
    event = f'{{"videoId": {video["id"]}, "eventType": "play", "timestamp": 1}}'.encode()
    assert client.http.post("/api/track/event", headers=admin_headers, body=event).status_code == 200
    assert sql("SELECT is_team, count(*) FROM video_views GROUP BY 1 ORDER BY 1") == [(False, 1), (True, 2)]
    settle()
    public = analytics(client, admin_headers, video["id"])
    everyone = analytics(client, admin_headers, video["id"], includeTeam="true")
    assert (public["totalViews"], public["eventCounts"]["play"], public["includeTeam"]) == (1, 0, False)
    assert (everyone["totalViews"], everyone["eventCounts"]["play"], everyone["includeTeam"]) == (3, 1, True)
    overview = report(client, admin_headers, "/api/videos/analytics/overview")
    assert (overview["totalViews"], overview["viewsLast24h"]) == (1, 1)
    overview = report(client, admin_headers, "/api/videos/analytics/overview", includeTeam="true")
    assert (overview["totalViews"], overview["viewsLast24h"]) == (3, 3)
    assert report(client, admin_headers, "/api/videos/analytics/top")["videos"][0]["views"] == 1
    assert report(client, admin_headers, "/api/videos/analytics/top", includeTeam="true")["videos"][0]["views"] == 3


def _viewers_of_both_kinds(video_id: int) -> dict[str, str]:
    """Two days ago: a member who watched as the team and not, a team-only viewer, three others; the day's span."""
    day = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=2)
    member = make_user(role="USER", email="both@example.test")
    add_view(video_id, user_id=member, at=day)
    add_view(video_id, user_id=member, at=day + timedelta(minutes=5), team=True)
    add_view(video_id, ip="b" * 64, at=day, team=True)
    for n in range(3):
        add_view(video_id, ip=f"{n}" * 64, at=day + timedelta(hours=1))
    return {"startDate": day.date().isoformat(), "endDate": day.date().isoformat()}


def _day_with_team(client: Any, headers: dict[str, str], video_id: int, span: dict[str, str]) -> list[Any]:
    paths = (f"/api/videos/{video_id}/analytics", "/api/videos/analytics/report")
    return [report(client, headers, path, includeTeam="true", **span)["viewsByDay"][0] for path in paths]


def test_with_team_views_a_day_counts_each_viewer_once(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    span = _viewers_of_both_kinds(video["id"])
    settle()
    for point in _day_with_team(client, admin_headers, video["id"], span):
        assert (point["views"], point["uniqueViewers"], point["uniqueViewersExact"]) == (6, 5, True)
    for path in (f"/api/videos/{video['id']}/analytics", "/api/videos/analytics/report"):
        alone = report(client, admin_headers, path, **span)["viewsByDay"][0]
        assert (alone["views"], alone["uniqueViewers"]) == (4, 4)


def test_a_folded_day_counts_its_team_and_other_viewers_together(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    """The fold counts them once, on the day's team row, and the report takes that count as it is: it
    reads no sketch for the day (the stored figure is changed here to show where the answer comes from)."""
    span = _viewers_of_both_kinds(video["id"])
    refresh()
    stored = sql("SELECT scope_id, team, viewers, viewers_with_team FROM analytics_days ORDER BY 1, 2")
    assert stored == [(0, False, 4, None), (0, True, 2, 5), (video["id"], False, 4, None), (video["id"], True, 2, 5)]
    sql("UPDATE analytics_days SET viewers_with_team = 7 WHERE team")
    assert [point["uniqueViewers"] for point in _day_with_team(client, admin_headers, video["id"], span)] == [7, 7]


def test_every_answer_says_how_fresh_and_what_each_figure_means(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    add_view(video["id"], watch=10)
    before = datetime.now(UTC)
    body = analytics(client, admin_headers, video["id"])
    assert datetime.fromisoformat(body["asOf"]) >= before - timedelta(seconds=1)  # nothing folded: all raw, current
    assert set(body["definitions"]) == {
        "views", "uniqueViewers", "pointUniqueViewers", "watchTime", "averageWatchTime", "completion", "events",
        "points", "peakConcurrentViewers", "asOf", "qoe", "plays", "startupTimeP50Ms", "startupTimeP95Ms",
        "rebufferRatio", "rebuffersPerHour", "playbackFailureRate", "exitsBeforeStartRate",
    }  # fmt: skip
    assert "exact" in body["definitions"]["uniqueViewers"] and "team" in body["definitions"]["views"]
    refresh()
    folded = sql("SELECT at FROM analytics_state WHERE name = 'folded_until'")[0][0]
    for path in ("/api/videos/analytics/overview", "/api/videos/analytics/top", f"/api/videos/{video['id']}/analytics"):
        answer = report(client, admin_headers, path)
        assert datetime.fromisoformat(answer["asOf"]) == folded.replace(microsecond=folded.microsecond // 1000 * 1000)
        assert answer["definitions"]["views"].startswith("A view is one POST /api/track/view")


def test_big_ranges_are_estimated_from_sketches_and_say_so(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the exact-count limit the range's distinct viewers are a HyperLogLog estimate; days stay exact."""
    from chalicelib.services.analytics import combine

    monkeypatch.setattr(combine, "EXACT_VIEWS_LIMIT", 100)
    sql(
        """
        INSERT INTO video_views (video_id, ip_address, created_at)
        SELECT :v, md5(mod(g, 3000)::text),
               timestamptz '2026-03-01 00:00Z' + mod(g, 4) * interval '1 day' + g * interval '1 s'
        FROM generate_series(1, 8000) g
        """,
        v=video["id"],
    )
    refresh()
    body = analytics(client, admin_headers, video["id"], startDate="2026-03-01", endDate="2026-03-04")
    assert body["totalViews"] == 8000 and body["uniqueViewersExact"] is False
    assert abs(body["uniqueViewers"] - 3000) <= 3000 * 0.02
    assert "estimated with HyperLogLog" in body["definitions"]["uniqueViewers"]
    assert all(day["uniqueViewersExact"] for day in body["viewsByDay"])  # counted exactly when each day was folded
    assert [day["uniqueViewers"] for day in body["viewsByDay"]] == [750, 750, 750, 750]  # g mod 4 picks the day
    one_day = analytics(client, admin_headers, video["id"], startDate="2026-03-02", endDate="2026-03-02")
    assert (one_day["uniqueViewers"], one_day["uniqueViewersExact"]) == (750, True)


# --- viewers, reset, top, overview -------------------------------------------------------


def test_viewers_lists_registered_users_only(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], admin_id: int
) -> None:
    alice = make_user(role="USER", name="Alice", email="alice@example.test")
    add_view(video["id"], user_id=alice, watch=30, at=datetime(2026, 3, 1, tzinfo=UTC))
    add_view(video["id"], user_id=alice, watch=20, at=datetime(2026, 3, 2, 8, tzinfo=UTC))
    add_view(video["id"], ip="a" * 64, watch=99)
    add_view(video["id"], user_id=admin_id, team=True)
    body = report(client, admin_headers, f"/api/videos/{video['id']}/analytics/viewers")
    assert body == {
        "viewers": [
            {
                "userId": alice,
                "name": "Alice",
                "email": "alice@example.test",
                "views": 2,
                "watchTimeSeconds": 50,
                "lastViewedAt": "2026-03-02T08:00:00.000Z",
            }
        ]
    }
    with_team = report(client, admin_headers, f"/api/videos/{video['id']}/analytics/viewers", includeTeam="true")
    assert [viewer["userId"] for viewer in with_team["viewers"]] == [admin_id, alice]


def test_reset_deletes_views_events_rollups_and_zeroes_aggregates(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
) -> None:
    other = create_video(published=True)
    view = add_view(
        video["id"], watch=40, completed=True, referer="https://a.example", at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    add_event(video["id"], "play", view_id=view, at=datetime(2026, 3, 1, tzinfo=UTC))
    add_view(other["id"], watch=10, at=datetime(2026, 3, 1, tzinfo=UTC))
    refresh()
    client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers)
    response = client.http.post(f"/api/videos/{video['id']}/reset-analytics", headers=admin_headers)
    assert (response.status_code, response.json_body) == (200, {"success": True})
    for table in ("video_views", "video_events"):
        assert sql(f"SELECT count(*) FROM {table} WHERE video_id = :v", v=video["id"]) == [(0,)]
    for table in ("analytics_hours", "analytics_days", "analytics_totals"):
        assert sql(f"SELECT count(*) FROM {table} WHERE scope_id = :v", v=video["id"]) == [(0,)]
    assert sql("SELECT count(*) FROM analytics_referrers WHERE video_id = :v", v=video["id"]) == [(0,)]
    assert sql("SELECT count(*) FROM video_views WHERE video_id = :v", v=other["id"]) == [(1,)]
    stored = report(client, admin_headers, f"/api/videos/{video['id']}")
    assert (stored["uniqueViewers"], stored["totalWatchTimeSeconds"], stored["completionRate"]) == (0, 0, 0)
    # The library no longer counts the video's views or watch time either.
    overview = report(client, admin_headers, "/api/videos/analytics/overview")
    assert (overview["totalViews"], overview["totalWatchTimeSeconds"]) == (1, 10)
    refresh()
    assert report(client, admin_headers, "/api/videos/analytics/overview")["totalViews"] == 1
    assert_totals_are_the_sums_of_the_hours()


def test_deleting_a_video_removes_its_share_of_the_library(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
) -> None:
    other = create_video(published=True)
    add_view(video["id"], watch=40, at=datetime(2026, 3, 1, tzinfo=UTC))
    add_view(other["id"], watch=10, at=datetime(2026, 3, 1, tzinfo=UTC))
    refresh()
    assert client.http.delete(f"/api/videos/{video['id']}", headers=admin_headers).status_code == 204
    overview = report(client, admin_headers, "/api/videos/analytics/overview")
    assert (overview["totalViews"], overview["totalWatchTimeSeconds"]) == (1, 10)
    assert sql("SELECT count(*) FROM analytics_hours WHERE scope_id = :v", v=video["id"]) == [(0,)]


def test_top_ranks_by_views_or_watch_time(
    client: Any, admin_headers: dict[str, str], create_video: Any, settle: Callable[[], None]
) -> None:
    many = create_video(published=True, title="Many views")
    long = create_video(published=True, title="Long watches")
    create_video(published=True, title="Nobody")
    for _ in range(3):
        add_view(many["id"], watch=10, ip="a" * 64)
    add_view(long["id"], watch=500, completed=True, ip="b" * 64)
    settle()
    body = report(client, admin_headers, "/api/videos/analytics/top", metric="views", limit=2)
    assert body["metric"] == "views"
    assert [(v["id"], v["views"], v["watchTimeSeconds"]) for v in body["videos"]] == [
        (many["id"], 3, 30),
        (long["id"], 1, 500),
    ]
    assert set(body["videos"][0]) == {"id", "title", "views", "uniqueViewers", "watchTimeSeconds", "completionRate"}
    # uniqueViewers is the stored figure, which the scheduled refresh keeps current.
    client.lambda_.invoke("refresh_video_analytics", scheduled_event(client))
    refresh()
    by_time = report(client, admin_headers, "/api/videos/analytics/top", metric="watchTime")
    assert [v["id"] for v in by_time["videos"]][:2] == [long["id"], many["id"]]
    assert by_time["videos"][0]["uniqueViewers"] == 1 and by_time["videos"][0]["completionRate"] == 100.0
    assert report(client, admin_headers, "/api/videos/analytics/top")["metric"] == "views"


@pytest.mark.parametrize("query", ["metric=likes", "limit=0", "limit=101", "limit=ten", "includeTeam=2"])
def test_top_rejects_bad_parameters(client: Any, admin_headers: dict[str, str], query: str) -> None:
    assert client.http.get(f"/api/videos/analytics/top?{query}", headers=admin_headers).status_code == 400


def test_overview(client: Any, admin_headers: dict[str, str], create_video: Any, settle: Callable[[], None]) -> None:
    first = create_video(published=True)
    second = create_video(published=False)
    now = datetime.now(UTC)
    add_view(first["id"], watch=100, completed=True, ip="a" * 64, at=now - timedelta(hours=1))
    add_view(first["id"], watch=50, ip="b" * 64, at=now - timedelta(days=3))
    add_view(second["id"], watch=30, ip="a" * 64, at=now - timedelta(days=20))
    add_view(second["id"], watch=20, ip="c" * 64, at=now - timedelta(days=60))
    settle()
    body = report(client, admin_headers, "/api/videos/analytics/overview")
    assert (body["totalVideos"], body["publishedVideos"]) == (2, 1)
    assert (body["totalViews"], body["uniqueViewers"], body["totalWatchTimeSeconds"]) == (4, 3, 200)
    assert (body["averageWatchTimeSeconds"], body["completionRate"]) == (50.0, 25.0)
    assert (body["viewsLast24h"], body["viewsLast7d"], body["viewsLast30d"]) == (1, 2, 3)
    assert len(body["viewsByDay"]) == 30
    assert body["viewsByDay"][-1]["date"] == now.date().isoformat()
    assert sum(day["views"] for day in body["viewsByDay"]) == 3
    tokyo = report(client, admin_headers, "/api/videos/analytics/overview", tz="Asia/Tokyo")
    assert tokyo["viewsByDay"][-1]["date"] == now.astimezone(ZoneInfo("Asia/Tokyo")).date().isoformat()


def test_views_in_the_last_24_hours_count_to_the_second(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    add_view(video["id"], at=now - timedelta(hours=24, minutes=1))
    add_view(video["id"], at=now - timedelta(hours=23, minutes=59))
    refresh()
    add_view(video["id"])  # after the fold: in the tail
    assert report(client, admin_headers, "/api/videos/analytics/overview")["viewsLast24h"] == 2


# --- the refresh ---------------------------------------------------------------------------


def test_scheduled_refresh_folds_the_videos_totals(client: Any, create_video: Any) -> None:
    fresh = create_video(published=True)
    create_video(published=True)  # no views: no totals
    add_view(fresh["id"], watch=40, completed=True, at=datetime.now(UTC) - timedelta(minutes=5))
    result = client.lambda_.invoke("refresh_video_analytics", scheduled_event(client)).payload
    assert result["finished"] is True and result["scopes_updated"] == 2  # the video and the library
    totals = "SELECT scope_id, watch_time_seconds FROM analytics_totals WHERE NOT team"
    rows = dict(sql(totals))
    assert rows == {fresh["id"]: 40, 0: 40}
    again = client.lambda_.invoke("refresh_video_analytics", scheduled_event(client)).payload
    assert again["finished"] is True
    assert dict(sql(totals)) == rows


def test_late_heartbeats_and_completions_reach_folded_hours(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    view = add_view(video["id"], watch=10, at=yesterday)
    refresh()
    sql("UPDATE video_views SET watch_time_seconds = 70, completed = true WHERE id = :id", id=view)
    refresh()
    assert_totals_are_the_sums_of_the_hours()
    day = yesterday.date().isoformat()
    body = analytics(client, admin_headers, video["id"], startDate=day, endDate=day)
    assert (body["totalWatchTimeSeconds"], body["completedViews"]) == (70, 1)
    assert report(client, admin_headers, f"/api/videos/{video['id']}")["totalWatchTimeSeconds"] == 70


def test_a_backlog_is_folded_a_step_at_a_time_and_resumed_after_the_budget(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    from chalicelib.services.analytics import folding

    start = datetime.now(UTC) - 2.5 * folding.STEP
    for part in range(5):
        add_view(video["id"], watch=10, ip=f"{part}" * 64, at=start + part * folding.STEP / 2)
    expected = without_freshness(analytics(client, admin_headers, video["id"]))
    partial = folding.refresh(budget_seconds=0, settle=timedelta(0))
    assert partial.finished is False and partial.steps == 1
    assert without_freshness(analytics(client, admin_headers, video["id"])) == expected  # half folded, same answer
    rest = refresh()
    assert rest.finished is True and rest.steps >= 2
    assert without_freshness(analytics(client, admin_headers, video["id"])) == expected
    assert_totals_are_the_sums_of_the_hours()


def test_queries_use_the_indexes(video: dict[str, Any], database_url: str) -> None:
    """EXPLAIN of the per-video raw queries on a table big enough for the planner to care."""
    sql(
        """
        INSERT INTO videos (filename, duration, file_size, width, height, orientation, quality)
        SELECT 'f' || g, 60, 1, 1, 1, 'H', 'SD' FROM generate_series(1, 200) g
        """
    )
    sql(
        """
        INSERT INTO video_views (video_id, ip_address, created_at)
        SELECT (SELECT min(id) FROM videos) + g % 200, md5(g::text) || md5(g::text), now() - g * interval '1 minute'
        FROM generate_series(1, 20000) g
        """
    )
    from tests.support.database import admin_connection

    native = admin_connection(database_url)
    native.run(f"VACUUM ANALYZE video_views_{datetime.now(UTC):%Y_%m}")  # the visibility map, as autovacuum sets it
    native.close()
    from chalicelib.repositories.analytics import raw

    year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    params = {"scope": video["id"], "start": year[0], "end": year[1], "teams": [False]}
    month = f"video_views_{datetime.now(UTC):%Y_%m}"  # the partition holding the rows
    for build in (raw._TAIL_VIEWS, raw._EXACT, raw._COUNT):
        plan = "\n".join(str(row[0]) for row in sql("EXPLAIN " + str(raw._statement(build, False)), **params))
        assert f"{month}_video_id_created_at" in plan and f"Seq Scan on {month}" not in plan, plan


def test_a_report_reads_days_and_referrer_days_from_their_covering_indexes(database_url: str) -> None:
    """The refresh writes a day of every scope at once, so a video's days lie a heap page apart;
    its report reads them index-only (migration 0007), without touching the heap or the sketches."""
    sql(
        """
        INSERT INTO analytics_days (scope_id, zone, day, team, views, viewers, sketch)
        SELECT s, 'UTC', date '2026-01-01' + d, false, 10, 5, decode(repeat('00', 2000), 'hex')
        FROM generate_series(1, 200) s, generate_series(0, 119) d
        """
    )
    sql(
        """
        INSERT INTO analytics_referrer_days (video_id, day, team, referer, views)
        SELECT s, date '2026-01-01' + d, false, 'https://site' || r || '.example/', 1
        FROM generate_series(1, 200) s, generate_series(0, 119) d, generate_series(1, 5) r
        """
    )
    from tests.support.database import admin_connection

    native = admin_connection(database_url)
    native.run("VACUUM ANALYZE analytics_days, analytics_referrer_days")  # as autovacuum would
    native.close()
    from chalicelib.repositories.analytics import days, referrers

    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    range_of_days = {"first": start.date(), "last": end.date()}
    ends = {"start": start, "end": end, "days_start": start, "days_end": end}
    plans = {
        "analytics_days_figures_idx": sql(
            "EXPLAIN " + str(days._READ), scope=7, zone="UTC", teams=[False], **range_of_days
        ),
        "analytics_referrer_days_video_team_day_idx": sql(
            "EXPLAIN " + str(referrers._TOP),
            video_id=7,
            teams=[False],
            limit=10,
            tail_referers=[],
            tail_views=[],
            **ends,
        ),
    }
    for index, rows in plans.items():
        plan = "\n".join(str(row[0]) for row in rows)
        assert f"Index Only Scan using {index}" in plan, plan
