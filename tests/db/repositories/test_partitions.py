"""Raw views and events partitioned by month: created ahead by the refresh, rows waiting in the
default partition moved into their month, whole months dropped by retention once folded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.db.engine import transaction
from chalicelib.repositories import partitions
from tests.support.analytics import add_event, add_view, refresh, report
from tests.support.database import sql


def monthly(table: str) -> list[str]:
    with transaction() as connection:
        return sorted(partitions.monthly(connection, table).values())


def test_the_raw_tables_are_partitioned_by_month_with_the_coming_months_ready() -> None:
    kinds = dict(
        sql("SELECT c.relname, p.partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid")
    )
    assert kinds == {"video_views": "r", "video_events": "r"}
    this_month = partitions.Month.of(datetime.now(UTC))
    expected = [month.name("video_views") for month in partitions.months(this_month, this_month.next().next())]
    refresh()
    assert set(expected) <= set(monthly("video_views"))
    assert sql("SELECT count(*) FROM pg_class WHERE relname IN ('video_views_default', 'video_events_default')") == [
        (2,)
    ]
    reloptions = sql("SELECT reloptions FROM pg_class WHERE relname = :n", n=expected[0])[0][0]
    assert "fillfactor=80" in reloptions  # room for heartbeats' HOT updates, partition by partition


def test_a_month_created_late_takes_its_rows_from_the_default_partition(create_video: Any) -> None:
    video = create_video(published=True)
    long_ago = datetime(2025, 3, 15, tzinfo=UTC)
    view = add_view(video["id"], watch=5, at=long_ago)
    add_event(video["id"], "play", view_id=view, at=long_ago)
    assert sql("SELECT count(*) FROM video_views_default") == [(1,)]
    with transaction() as connection:
        created = partitions.ensure(connection, [partitions.Month(2025, 3)])
    assert created == ["video_views_2025_03", "video_events_2025_03"]
    assert sql("SELECT count(*) FROM video_views_default") == [(0,)]
    assert sql("SELECT id, watch_time_seconds FROM video_views_2025_03") == [(view, 5)]
    assert sql("SELECT count(*) FROM video_events_2025_03") == [(1,)]
    assert sql("SELECT count(*) FROM video_views WHERE id = :id", id=view) == [(1,)]  # found by id alone
    with transaction() as connection:
        assert sorted(partitions.drop_before(connection, partitions.Month(2025, 4).start)) == sorted(created)


def test_retention_drops_whole_months_once_folded_and_nothing_else(
    client: Any, admin_headers: dict[str, str], create_video: Any
) -> None:
    from chalicelib.services.analytics import retention

    video = create_video(published=True)
    now = datetime.now(UTC)
    old = partitions.Month.of(now - timedelta(days=200))
    with transaction() as connection:
        partitions.ensure(connection, [old, old.next()])
    in_old_months = [old.start + timedelta(days=3), old.next().start + timedelta(days=3)]
    for at in in_old_months:
        for ip in ("a", "b"):
            view = add_view(video["id"], watch=30, ip=ip * 64, at=at)
            add_event(video["id"], "play", view_id=view, at=at)
    add_view(video["id"], watch=10, ip="c" * 64, at=now - timedelta(days=2))
    refresh()
    path = f"/api/videos/{video['id']}/analytics"
    window = {"startDate": (now - timedelta(days=250)).date().isoformat(), "endDate": now.date().isoformat()}
    before = report(client, admin_headers, path, **window)

    result = retention.run()
    assert sorted(result.partitions_dropped) == sorted(
        [
            old.name("video_views"),
            old.next().name("video_views"),
            old.name("video_events"),
            old.next().name("video_events"),
        ]
    )
    assert old.name("video_views") not in monthly("video_views")
    assert sql("SELECT count(*) FROM video_views") == [(1,)] and sql("SELECT count(*) FROM video_events") == [(0,)]
    after = report(client, admin_headers, path, **window)
    for key in ("totalViews", "totalWatchTimeSeconds", "eventCounts", "viewsByDay", "uniqueViewers"):
        assert after[key] == before[key], key
    assert retention.run().partitions_dropped == []  # nothing more to drop
