"""Admin analytics on hand-built data sets in real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.analytics_support import add_event, add_view, scheduled_event, sql
from tests.conftest import make_user, token_for


@pytest.fixture(autouse=True)
def _clear_snapshots() -> Any:
    yield
    sql("DELETE FROM analytics_snapshots")


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


def get(client: Any, path: str, headers: dict[str, str]) -> Any:
    response = client.http.get(path, headers=headers)
    assert response.status_code == 200, response.body
    return response.json_body


# --- the seed's own example --------------------------------------------------------------


def test_seed_example_aggregates_to_the_seed_numbers(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    add_view(video["id"], watch=100, completed=True)
    add_view(video["id"], watch=50, completed=False)
    response = client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers, body=b"{}")
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["success"] is True
    assert body["analytics"] == {
        "videoId": video["id"],
        "totalViews": 2,
        "uniqueViewers": 2,
        "totalWatchTimeSeconds": 150,
        "averageWatchTimeSeconds": 75.0,
        "completionRate": 50.0,
        "completedViews": 1,
    }
    stored = get(client, f"/api/videos/{video['id']}", admin_headers)
    assert (stored["uniqueViewers"], stored["totalWatchTimeSeconds"]) == (2, 150)
    assert (stored["averageWatchTimeSeconds"], stored["completionRate"]) == (75.0, 50.0)


def test_unique_viewers_are_users_else_ip_hashes(video: dict[str, Any]) -> None:
    from chalicelib.services.analytics import aggregate_video

    alice, bob = make_user(role="USER"), make_user(role="USER")
    add_view(video["id"], user_id=alice, ip="a" * 64)
    add_view(video["id"], user_id=alice, ip="b" * 64)  # same user, other network: one viewer
    add_view(video["id"], user_id=bob)
    add_view(video["id"], ip="c" * 64)
    add_view(video["id"], ip="c" * 64)  # same anonymous IP: one viewer
    add_view(video["id"], ip="d" * 64)
    add_view(video["id"])  # neither (IP hashing disabled): a viewer of its own
    totals = aggregate_video(video["id"])
    assert (totals.views, totals.unique_viewers) == (7, 5)


# --- per-video report --------------------------------------------------------------------


def test_report_with_day_series_zero_days_events_and_referrers(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
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

    body = get(client, f"/api/videos/{video['id']}/analytics?startDate=2026-03-01&endDate=2026-03-04", admin_headers)
    assert body["videoId"] == video["id"]
    assert (body["totalViews"], body["uniqueViewers"], body["totalWatchTimeSeconds"]) == (3, 2, 180)
    assert (body["averageWatchTimeSeconds"], body["completionRate"], body["completedViews"]) == (60.0, 33.33, 1)
    assert body["eventCounts"] == {"play": 2, "pause": 1, "seek": 1, "complete": 1}
    assert body["viewsByDay"] == [
        {"date": "2026-03-01", "views": 2, "uniqueViewers": 1, "watchTimeSeconds": 120},
        {"date": "2026-03-02", "views": 0, "uniqueViewers": 0, "watchTimeSeconds": 0},
        {"date": "2026-03-03", "views": 1, "uniqueViewers": 1, "watchTimeSeconds": 60},
        {"date": "2026-03-04", "views": 0, "uniqueViewers": 0, "watchTimeSeconds": 0},
    ]
    assert body["topReferrers"] == [
        {"referer": "https://a.example", "views": 2},
        {"referer": "https://b.example", "views": 1},
    ]


def test_report_without_dates_spans_first_data_day_to_today(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    add_view(video["id"], watch=10, at=datetime.now(UTC) - timedelta(days=2))
    body = get(client, f"/api/videos/{video['id']}/analytics", admin_headers)
    assert [day["views"] for day in body["viewsByDay"]] == [1, 0, 0]
    assert body["viewsByDay"][-1]["date"] == datetime.now(UTC).date().isoformat()
    empty = get(client, f"/api/videos/{video['id']}/analytics?startDate=2020-01-01&endDate=2020-01-02", admin_headers)
    assert empty["totalViews"] == 0 and empty["averageWatchTimeSeconds"] == 0 and empty["completionRate"] == 0
    assert len(empty["viewsByDay"]) == 2


@pytest.mark.parametrize(
    "query",
    ["startDate=yesterday", "startDate=2026-02-30", "startDate=2026-03-05&endDate=2026-03-01", "startDate=1900-01-01"],
)
def test_report_rejects_bad_ranges(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], query: str
) -> None:
    response = client.http.get(f"/api/videos/{video['id']}/analytics?{query}", headers=admin_headers)
    assert response.status_code == 400
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


# --- viewers, reset, top, overview -------------------------------------------------------


def test_viewers_lists_registered_users_only(client: Any, admin_headers: dict[str, str], video: dict[str, Any]) -> None:
    alice = make_user(role="USER", name="Alice", email="alice@example.test")
    add_view(video["id"], user_id=alice, watch=30, at=datetime(2026, 3, 1, tzinfo=UTC))
    add_view(video["id"], user_id=alice, watch=20, at=datetime(2026, 3, 2, 8, tzinfo=UTC))
    add_view(video["id"], ip="a" * 64, watch=99)
    body = get(client, f"/api/videos/{video['id']}/analytics/viewers", admin_headers)
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


def test_reset_deletes_views_events_rollups_and_zeroes_aggregates(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
) -> None:
    other = create_video(published=True)
    view = add_view(video["id"], watch=40, completed=True)
    add_event(video["id"], "play", view_id=view)
    add_view(other["id"], watch=10)
    sql("INSERT INTO video_daily_rollups (video_id, day, views) VALUES (:v, '2026-01-01', 5)", v=video["id"])
    client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers)
    response = client.http.post(f"/api/videos/{video['id']}/reset-analytics", headers=admin_headers)
    assert (response.status_code, response.json_body) == (200, {"success": True})
    for table in ("video_views", "video_events", "video_daily_rollups"):
        assert sql(f"SELECT count(*) FROM {table} WHERE video_id = :v", v=video["id"]) == [(0,)]
    assert sql("SELECT count(*) FROM video_views WHERE video_id = :v", v=other["id"]) == [(1,)]
    stored = get(client, f"/api/videos/{video['id']}", admin_headers)
    assert (stored["uniqueViewers"], stored["totalWatchTimeSeconds"], stored["completionRate"]) == (0, 0, 0)


def test_top_ranks_by_views_or_watch_time(client: Any, admin_headers: dict[str, str], create_video: Any) -> None:
    many = create_video(published=True, title="Many views")
    long = create_video(published=True, title="Long watches")
    create_video(published=True, title="Nobody")
    for _ in range(3):
        add_view(many["id"], watch=10, ip="a" * 64)
    add_view(long["id"], watch=500, completed=True, ip="b" * 64)
    body = get(client, "/api/videos/analytics/top?metric=views&limit=2", admin_headers)
    assert body["metric"] == "views"
    assert [(v["id"], v["views"], v["watchTimeSeconds"]) for v in body["videos"]] == [
        (many["id"], 3, 30),
        (long["id"], 1, 500),
    ]
    assert set(body["videos"][0]) == {"id", "title", "views", "uniqueViewers", "watchTimeSeconds", "completionRate"}
    # uniqueViewers is the stored aggregate, which the scheduled refresh keeps current.
    client.lambda_.invoke("refresh_video_analytics", scheduled_event(client))
    by_time = get(client, "/api/videos/analytics/top?metric=watchTime", admin_headers)
    assert [v["id"] for v in by_time["videos"]][:2] == [long["id"], many["id"]]
    assert by_time["videos"][0]["uniqueViewers"] == 1 and by_time["videos"][0]["completionRate"] == 100.0
    default = get(client, "/api/videos/analytics/top", admin_headers)
    assert default["metric"] == "views"


@pytest.mark.parametrize("query", ["metric=likes", "limit=0", "limit=101", "limit=ten"])
def test_top_rejects_bad_parameters(client: Any, admin_headers: dict[str, str], query: str) -> None:
    assert client.http.get(f"/api/videos/analytics/top?{query}", headers=admin_headers).status_code == 400


def test_overview(client: Any, admin_headers: dict[str, str], create_video: Any) -> None:
    first = create_video(published=True)
    second = create_video(published=False)
    now = datetime.now(UTC)
    add_view(first["id"], watch=100, completed=True, ip="a" * 64, at=now - timedelta(hours=1))
    add_view(first["id"], watch=50, ip="b" * 64, at=now - timedelta(days=3))
    add_view(second["id"], watch=30, ip="a" * 64, at=now - timedelta(days=20))
    add_view(second["id"], watch=20, ip="c" * 64, at=now - timedelta(days=60))
    body = get(client, "/api/videos/analytics/overview", admin_headers)
    assert (body["totalVideos"], body["publishedVideos"]) == (2, 1)
    assert (body["totalViews"], body["uniqueViewers"], body["totalWatchTimeSeconds"]) == (4, 3, 200)
    assert (body["averageWatchTimeSeconds"], body["completionRate"]) == (50.0, 25.0)
    assert (body["viewsLast24h"], body["viewsLast7d"], body["viewsLast30d"]) == (1, 2, 3)
    assert len(body["viewsByDay"]) == 30
    assert body["viewsByDay"][-1]["date"] == now.date().isoformat()
    assert sum(day["views"] for day in body["viewsByDay"]) == 3


def test_scheduled_refresh_aggregates_recently_active_videos(client: Any, create_video: Any) -> None:
    fresh = create_video(published=True)
    stale = create_video(published=True)
    add_view(fresh["id"], watch=40, completed=True)
    add_view(stale["id"], watch=40, at=datetime.now(UTC) - timedelta(days=3))
    result = client.lambda_.invoke("refresh_video_analytics", scheduled_event(client))
    assert result.payload["videosRefreshed"] == 1
    rows = dict(sql("SELECT id, total_watch_time_seconds FROM videos"))
    assert rows == {fresh["id"]: 40, stale["id"]: 0}


def test_queries_use_the_indexes(video: dict[str, Any], database_url: str) -> None:
    """EXPLAIN of the per-video queries on a table big enough for the planner to care."""
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
    from tests.conftest import admin_connection

    native = admin_connection(database_url)
    native.run("VACUUM ANALYZE video_views")  # sets the visibility map, as autovacuum would
    native.close()
    from chalicelib.repositories import analytics

    params = {"video_id": video["id"], "from": date(2026, 1, 1), "end": date(2026, 12, 31)}
    plan = "\n".join(str(row[0]) for row in sql("EXPLAIN " + str(analytics._DISTINCT_VIEWERS), **params))
    assert "Index Only Scan using video_views_video_created_idx" in plan, plan
    params = {**params, "start": date(2026, 1, 1), "raw_start": date(2026, 1, 1)}
    plan = "\n".join(str(row[0]) for row in sql("EXPLAIN " + str(analytics._VIEWS_BY_DAY), **params))
    assert "video_views_video_created_idx" in plan and "Seq Scan on video_views" not in plan, plan
