"""Retention: raw rows go once folded and old; roll-ups keep every figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.analytics import add_event, add_view, refresh, report, scheduled_event
from tests.support.database import sql


def _report(client: Any, headers: dict[str, str], video_id: int, start: str, end: str) -> Any:
    return report(client, headers, f"/api/videos/{video_id}/analytics", startDate=start, endDate=end)


def test_retention_deletes_old_raw_rows_while_rollups_keep_the_figures(
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

    nothing = client.lambda_.invoke("analytics_retention", scheduled_event(client)).payload
    assert (nothing["views_deleted"], nothing["kept_from"]) == (0, None)  # nothing folded: nothing may go
    refresh()
    result = client.lambda_.invoke("analytics_retention", scheduled_event(client)).payload
    assert (result["views_deleted"], result["events_deleted"], result["finished"]) == (2, 2, True)
    assert sql("SELECT count(*) FROM video_views") == [(2,)]
    assert sql("SELECT count(*) FROM video_events") == [(1,)]

    after = _report(client, admin_headers, video["id"], start, end)
    for key in ("totalViews", "totalWatchTimeSeconds", "completedViews", "eventCounts", "viewsByDay", "topReferrers"):
        assert after[key] == before[key], key
    assert (before["uniqueViewers"], before["uniqueViewersExact"]) == (3, True)
    # All-time figures were counted when the rows were folded: still exact.
    assert (after["uniqueViewers"], after["uniqueViewersExact"]) == (3, True)
    # A range over the deleted day can no longer be recounted: the sketches still know "a" came back.
    yesterday = (now - timedelta(days=1)).date().isoformat()
    before_today = _report(client, admin_headers, video["id"], start, yesterday)
    assert (before_today["uniqueViewers"], before_today["uniqueViewersExact"]) == (2, False)
    recent = _report(client, admin_headers, video["id"], recent_day.date().isoformat(), end)
    assert (recent["uniqueViewers"], recent["uniqueViewersExact"]) == (2, True)  # raw rows kept: exact again

    again = client.lambda_.invoke("analytics_retention", scheduled_event(client)).payload
    assert (again["views_deleted"], again["events_deleted"]) == (0, 0)
    refresh()
    assert _report(client, admin_headers, video["id"], start, end)["viewsByDay"] == before["viewsByDay"]


def test_retention_deletes_in_bounded_batches_and_resumes(create_video: Any) -> None:
    from chalicelib.services.analytics import retention

    video = create_video(published=True)
    sql(
        """
        INSERT INTO video_views (video_id, watch_time_seconds, created_at)
        SELECT :v, 10, now() - interval '200 days' - g * interval '1 minute' FROM generate_series(1, 120) g
        """,
        v=video["id"],
    )
    refresh()
    partial = retention.run(batch=50, budget_seconds=0)
    assert partial.finished is False and partial.views_deleted == 50
    rest = retention.run(batch=50)
    assert rest.finished is True and rest.views_deleted == 70
    assert sql(
        "SELECT sum(views), sum(watch_time_seconds) FROM analytics_hours WHERE scope_id = :v", v=video["id"]
    ) == [(120, 1200)]


def test_retention_never_deletes_rows_the_refresh_has_not_folded(create_video: Any) -> None:
    """After an outage of the refresh, old rows wait: the floor never passes the fold watermark."""
    from chalicelib.services.analytics import retention

    video = create_video(published=True)
    add_view(video["id"], at=datetime.now(UTC) - timedelta(days=200))
    refresh()
    add_view(video["id"], at=datetime.now(UTC) - timedelta(days=150))  # landed behind the watermark, unfolded
    sql("UPDATE analytics_state SET at = now() - interval '180 days' WHERE name = 'folded_until'")
    result = retention.run()
    assert result.views_deleted == 1  # the 200-day-old one
    assert datetime.fromisoformat(result.kept_from or "") < datetime.now(UTC) - timedelta(days=180)
    assert sql("SELECT count(*) FROM video_views") == [(1,)]
