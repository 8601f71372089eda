"""Daily roll-ups and retention: raw rows go, totals and time series stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.analytics_support import add_event, add_view, scheduled_event, sql


@pytest.fixture(autouse=True)
def _clear_snapshots() -> Any:
    yield
    sql("DELETE FROM analytics_snapshots")


def _report(client: Any, headers: dict[str, str], video_id: int, start: str, end: str) -> Any:
    response = client.http.get(f"/api/videos/{video_id}/analytics?startDate={start}&endDate={end}", headers=headers)
    assert response.status_code == 200, response.body
    return response.json_body


def test_retention_deletes_old_raw_rows_while_rollups_keep_the_totals(
    client: Any, admin_headers: dict[str, str], create_video: Any
) -> None:
    video = create_video(published=True, duration=100)
    now = datetime.now(UTC)
    old_day = now - timedelta(days=100)
    recent_day = now - timedelta(days=10)
    first = add_view(video["id"], watch=100, completed=True, ip="a" * 64, referer="https://old.example", at=old_day)
    add_view(video["id"], watch=50, ip="b" * 64, referer="https://old.example", at=old_day)
    add_view(video["id"], watch=30, ip="a" * 64, at=recent_day)
    add_view(video["id"], watch=20, ip="c" * 64)  # today
    add_event(video["id"], "play", view_id=first, at=old_day)
    add_event(video["id"], "complete", view_id=first, at=old_day)
    add_event(video["id"], "pause", at=recent_day)
    start, end = (now - timedelta(days=120)).date().isoformat(), now.date().isoformat()
    before = _report(client, admin_headers, video["id"], start, end)
    aggregated_before = client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers)

    result = client.lambda_.invoke("analytics_retention", scheduled_event(client)).payload
    assert (result["views_deleted"], result["events_deleted"], result["finished"]) == (2, 2, True)
    assert sql("SELECT count(*) FROM video_views") == [(2,)]
    assert sql("SELECT count(*) FROM video_events") == [(1,)]
    assert sql(
        "SELECT views, watch_time_seconds, completed_views, play_events, complete_events "
        "FROM video_daily_rollups WHERE day = :d",
        d=old_day.date(),
    ) == [(2, 150, 1, 1, 1)]

    after = _report(client, admin_headers, video["id"], start, end)
    for key in ("totalViews", "totalWatchTimeSeconds", "completedViews", "eventCounts", "viewsByDay", "topReferrers"):
        assert after[key] == before[key], key
    assert before["totalViews"] == 4 and before["uniqueViewers"] == 3
    # Viewer "a" on the deleted day can no longer be matched with "a" ten days ago: per-day counts add up.
    assert after["uniqueViewers"] == 4
    aggregated_after = client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers)
    for key in ("totalViews", "totalWatchTimeSeconds", "completionRate", "averageWatchTimeSeconds"):
        assert aggregated_after.json_body["analytics"][key] == aggregated_before.json_body["analytics"][key]

    # A second run finds nothing more to delete and changes nothing.
    again = client.lambda_.invoke("analytics_retention", scheduled_event(client)).payload
    assert (again["views_deleted"], again["events_deleted"]) == (0, 0)
    assert _report(client, admin_headers, video["id"], start, end)["viewsByDay"] == before["viewsByDay"]


def test_retention_deletes_in_bounded_batches_and_resumes(create_video: Any) -> None:
    from chalicelib.services import retention

    video = create_video(published=True)
    sql(
        """
        INSERT INTO video_views (video_id, watch_time_seconds, created_at)
        SELECT :v, 10, now() - interval '200 days' - g * interval '1 minute' FROM generate_series(1, 120) g
        """,
        v=video["id"],
    )
    partial = retention.run(batch=50, budget_seconds=0)
    assert partial.finished is False and partial.views_deleted == 50
    rest = retention.run(batch=50)
    assert rest.finished is True and rest.views_deleted == 70
    assert sql("SELECT sum(views), sum(watch_time_seconds) FROM video_daily_rollups") == [(120, 1200)]


def test_folding_never_double_counts_when_a_day_is_folded_again(
    client: Any, admin_headers: dict[str, str], create_video: Any
) -> None:
    from chalicelib.services import retention

    video = create_video(published=True)
    day = datetime.now(UTC) - timedelta(days=5)
    add_view(video["id"], watch=40, ip="a" * 64, at=day)
    add_view(video["id"], watch=60, ip="b" * 64, at=day)
    for _ in range(3):
        retention.fold_closed_days()
    report = _report(client, admin_headers, video["id"], day.date().isoformat(), day.date().isoformat())
    assert (report["totalViews"], report["totalWatchTimeSeconds"], report["uniqueViewers"]) == (2, 100, 2)


def test_recent_days_are_refolded_so_late_heartbeats_count(
    client: Any, admin_headers: dict[str, str], create_video: Any
) -> None:
    from chalicelib.services import retention

    video = create_video(published=True)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    view = add_view(video["id"], watch=10, at=yesterday)
    retention.fold_closed_days()
    sql("UPDATE video_views SET watch_time_seconds = 70, completed = true WHERE id = :id", id=view)
    retention.fold_closed_days()
    day = yesterday.date().isoformat()
    report = _report(client, admin_headers, video["id"], day, day)
    assert (report["totalWatchTimeSeconds"], report["completedViews"]) == (70, 1)
