"""Importing the module's library (in-process, moto for Scheduler; media in tests/integration/test_import.py).

The source is a database of its own in the module's Prisma shape (``tests/support/legacy_module.py``);
after the import every report equals the module's own formulas over the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.db.engine import get_engine
from chalicelib.services.importing.run import Options, Summary, run_import
from tests.support import legacy_module
from tests.support.api import token_for
from tests.support.database import admin_connection, make_user, scratch_database

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def source_url(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, prefix="media_module") as scratch:
        connection = admin_connection(scratch.url)
        legacy_module.create_schema(connection.run)
        legacy_module.fill(connection.run, now=NOW)
        connection.close()
        yield scratch.url


@pytest.fixture
def source(source_url: str) -> Iterator[Callable[..., list[Any]]]:
    connection = admin_connection(source_url)
    yield connection.run
    connection.close()


@pytest.fixture(autouse=True)
def past_months_unpartitioned() -> Iterator[None]:
    """The months before this one have no partition yet, as in a database younger than the history
    it imports: their rows go through the staging table, this month's straight in."""
    from chalicelib.repositories import partitions

    this_month = partitions.Month.of(NOW)
    with get_engine().begin() as connection:
        had = sorted({month for table in partitions.TABLES for month in partitions.monthly(connection, table)})
        partitions.drop_before(connection, this_month.start)
    yield
    with get_engine().begin() as connection:
        for table in partitions.TABLES:
            connection.execute(text(f"DROP TABLE IF EXISTS {partitions.STAGED.format(table=table)}"))
        partitions.ensure(connection, had)


def copied(table: str, where: str = "true") -> int:
    """Rows of ``table`` copied so far, wherever they are (attached, or still in its staging table)."""
    from chalicelib.repositories import partitions

    staging = partitions.STAGED.format(table=table)
    found = sql(f"SELECT count(*) FROM {table} WHERE {where}")[0][0]
    if sql("SELECT to_regclass(:name) IS NOT NULL", name=staging)[0][0]:
        found += sql(f"SELECT count(*) FROM {staging} WHERE {where}")[0][0]
    return int(found)


def sql(statement: str, **params: Any) -> list[Any]:
    with get_engine().begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def do_import(source_url: str, **options: Any) -> Summary:
    return run_import(Options(source_url=source_url, **options))


def analytics(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    response = client.http.get(path, headers=headers)
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def report_figures(answer: dict[str, Any]) -> dict[str, Any]:
    keys = ("totalViews", "uniqueViewers", "totalWatchTimeSeconds", "averageWatchTimeSeconds", "completionRate")
    return {key: answer[key] for key in keys}


def test_every_report_equals_the_modules_formulas_after_an_import(
    client: Any, resources: dict[str, str], source_url: str, source: Any
) -> None:
    summary = do_import(source_url)

    assert summary.counts["videos"] == 4
    assert summary.counts["views"] == sql("SELECT count(*) FROM video_views")[0][0] == 240
    headers = {"Authorization": f"Bearer {token_for(11)}"}
    for video_id, expected in legacy_module.module_figures(source).items():
        answer = analytics(client, headers, f"/api/videos/{video_id}/analytics")
        assert report_figures(answer) == expected, video_id
        assert answer["uniqueViewersExact"] is True
    overview = analytics(client, headers, "/api/videos/analytics/overview")
    assert {key: overview[key] for key in ("totalViews", "uniqueViewers", "totalWatchTimeSeconds")} == (
        legacy_module.library_figures(source)
    )
    watermark = "(SELECT at FROM analytics_state WHERE name = 'folded_until')"
    raw_after_watermark = sql(f"SELECT count(*) FROM video_views WHERE created_at >= {watermark}")[0][0]
    assert raw_after_watermark == 0  # folded: no report reads the imported raw rows


def test_text_holding_backslashes_tabs_and_line_breaks_arrives_as_it_left(
    resources: dict[str, str], source_url: str, source: Any
) -> None:
    odd = "a\\b\tc\nd\re\\N"
    view = source('SELECT min(id) FROM video_views WHERE "ipAddress" IS NOT NULL')[0][0]
    last = source("SELECT max(id) FROM video_views")[0][0]
    event = source("SELECT min(id) FROM video_events")[0][0]
    kept = source(
        'SELECT (SELECT "ipAddress" FROM video_views WHERE id = :view),'
        " (SELECT referer FROM video_views WHERE id = :last),"
        ' (SELECT "eventType" FROM video_events WHERE id = :event)',
        view=view,
        last=last,
        event=event,
    )[0]
    source('UPDATE video_views SET "ipAddress" = :odd WHERE id = :view', odd=odd, view=view)
    source("UPDATE video_views SET referer = :url WHERE id = :last", url="https://a.example/x\\y?q=1", last=last)
    source('UPDATE video_events SET "eventType" = :odd WHERE id = :event', odd=odd, event=event)
    try:
        do_import(source_url)
    finally:  # the source is shared by this module's tests
        source('UPDATE video_views SET "ipAddress" = :ip WHERE id = :view', ip=kept[0], view=view)
        source("UPDATE video_views SET referer = :url WHERE id = :last", url=kept[1], last=last)
        source('UPDATE video_events SET "eventType" = :kind WHERE id = :event', kind=kept[2], event=event)

    assert sql("SELECT ip_address, ip_legacy FROM video_views WHERE id = :view", view=view)[0] == (odd, True)
    assert sql("SELECT event_type FROM video_events ORDER BY id LIMIT 1")[0][0] == odd
    assert sql("SELECT referer FROM video_views WHERE id = :last", last=last)[0][0] == "https://a.example/x\\y"
    assert sql("SELECT count(*) FROM video_views")[0][0] == source("SELECT count(*) FROM video_views")[0][0]


def test_rows_keep_their_ids_times_users_and_legacy_hashes(
    resources: dict[str, str], source_url: str, source: Any
) -> None:
    do_import(source_url)

    assert [row[0] for row in sql("SELECT id FROM videos ORDER BY id")] == [1, 2, 3, 4]
    assert {row[0] for row in sql("SELECT id FROM users")} == {11, 12, 13}
    assert [tuple(row) for row in sql("SELECT email, name, role FROM users WHERE id = 11")] == [
        ("ana@main.test", "Ana", "SUPER_ADMIN")
    ]
    here = sql(
        "SELECT id, video_id, user_id, ip_address, ip_legacy, watch_time_seconds, completed, created_at "
        "FROM video_views ORDER BY id"
    )
    there = source(
        'SELECT id, "videoId", "userId", "ipAddress", "ipAddress" IS NOT NULL, "watchTimeSeconds", completed, '
        """"createdAt" AT TIME ZONE 'UTC' FROM video_views ORDER BY id"""
    )
    assert [tuple(row) for row in here] == [tuple(row) for row in there]
    events_here = sql("SELECT video_id, view_id, event_type, timestamp, created_at FROM video_events ORDER BY id")
    events_there = source(
        """SELECT "videoId", "viewId", "eventType", timestamp, "createdAt" AT TIME ZONE 'UTC' FROM video_events
           ORDER BY id"""
    )
    assert [tuple(row) for row in events_here] == [tuple(row) for row in events_there]
    referrers = {row[0] for row in sql("SELECT DISTINCT referer FROM video_views")}
    assert referrers == {None, "https://blog.example/post", "https://news.example/a/b", "https://forum.example/t/1"}
    video = sql("SELECT filename, title, producer, thumbnail_url, is_published FROM videos WHERE id = 2")[0]
    assert video.filename.startswith("videos/") and video.filename.endswith("/city-walk.mp4")
    assert (video.title, video.producer, video.thumbnail_url, video.is_published) == (
        "City walk",
        "Module Films",
        None,
        True,
    )


def test_history_is_kept_and_pending_schedules_run_or_are_scheduled(
    resources: dict[str, str], scheduler: Any, source_url: str
) -> None:
    do_import(source_url)

    history = sql(
        "SELECT video_id, action, status, error, scheduled_by_user_id FROM video_schedule_history ORDER BY id"
    )
    assert [tuple(row) for row in history] == [
        (1, "publish", "completed", None, 11),
        (2, "publish", "failed", "Video not found in storage", 11),
        (2, "publish", "completed", None, 12),
        (1, "unpublish", "pending", None, 11),
        (3, "publish", "completed", None, 12),  # past due: run once, now
    ]
    assert sql("SELECT is_published, scheduled_publish_at FROM videos WHERE id = 3")[0] == (True, None)
    unpublish = sql("SELECT scheduled_unpublish_at FROM videos WHERE id = 1")[0][0]
    assert unpublish is not None and unpublish > NOW
    from chalicelib.config import get_settings

    names = [
        item["Name"] for item in scheduler.list_schedules(GroupName=get_settings().schedule_group_name)["Schedules"]
    ]
    assert names == ["video-1-unpublish"]


def test_a_second_run_changes_nothing_and_a_dry_run_writes_nothing(resources: dict[str, str], source_url: str) -> None:
    dry = do_import(source_url, dry_run=True)
    assert dry.counts["views"] == 240 and dry.counts["videos"] == 4
    assert sql("SELECT count(*) FROM videos")[0][0] == 0
    assert sql("SELECT count(*) FROM import_checkpoints")[0][0] == 0

    do_import(source_url)
    tables = ("videos", "video_views", "video_events", "video_schedule_history", "users", "analytics_hours")
    before = {table: sql(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t")[0]
              for table in tables}  # fmt: skip
    second = do_import(source_url)

    assert {name: count for name, count in second.counts.items() if count} == {}
    after = {table: sql(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t")[0]
             for table in tables}  # fmt: skip
    assert after == before


def test_an_interrupted_import_resumes_where_it_stopped(
    resources: dict[str, str], source_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.repositories import imports

    real = imports.copy_rows
    calls = []

    def dies_on_the_third_chunk(*args: Any) -> None:
        calls.append(args[1])
        if len(calls) >= 3:  # killed: the chunk under way rolls back, and nothing after it is written
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(imports, "copy_rows", dies_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        do_import(source_url, views_per_chunk=50)
    assert copied("video_views") == 100  # two chunks committed, the third rolled back
    monkeypatch.setattr(imports, "copy_rows", real)

    resumed = do_import(source_url, views_per_chunk=50)

    assert resumed.counts["views"] == 140
    assert sql("SELECT count(*), count(DISTINCT id) FROM video_views")[0] == (240, 240)
    assert sql("SELECT position, detail->'copied' FROM import_checkpoints WHERE step = 'views'")[0] == (240, [])


def test_chunks_committed_after_one_that_failed_are_not_copied_again(
    resources: dict[str, str], source_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.repositories import imports

    real = imports.copy_rows
    failed = []

    def fails_once_on_the_second_chunk(connection: Any, table: str, columns: Any, data: bytes) -> None:
        if table.endswith("video_views") and data.startswith(b"51\t") and not failed:
            failed.append(table)
            raise RuntimeError("the server went away")
        real(connection, table, columns, data)

    monkeypatch.setattr(imports, "copy_rows", fails_once_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        do_import(source_url, views_per_chunk=50)
    committed = copied("video_views")
    assert copied("video_views", "id BETWEEN 51 AND 100") == 0

    resumed = do_import(source_url, views_per_chunk=50)

    assert resumed.counts["views"] == 240 - committed
    assert sql("SELECT count(*), count(DISTINCT id) FROM video_views")[0] == (240, 240)


def test_months_new_to_this_database_arrive_as_partitions_like_its_own(
    resources: dict[str, str], source_url: str
) -> None:
    from chalicelib.repositories import partitions

    do_import(source_url)

    this_month = partitions.Month.of(NOW)
    for table in partitions.TABLES:
        with get_engine().begin() as connection:
            found = partitions.monthly(connection, table)
        past = [month for month in found if month < this_month]
        assert past, table  # the history reaches back 40 days
        assert sql("SELECT to_regclass(:name)", name=partitions.STAGED.format(table=table))[0][0] is None
        shapes = {month: _shape(found[month], found[this_month]) for month in [*past, this_month]}
        assert len(set(shapes.values())) == 1, shapes  # the same indexes and foreign keys as a month it created


def _shape(partition: str, named_like: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A partition's index and foreign-key definitions, its own name spelled as ``named_like``'s."""
    indexes = sql("SELECT indexdef FROM pg_indexes WHERE tablename = :t ORDER BY 1", t=partition)
    keys = sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' "
        "ORDER BY 1",
        t=partition,
    )
    return (
        tuple(sorted(row[0].replace(partition, named_like) for row in indexes)),
        tuple(row[0] for row in keys),
    )


def test_a_video_and_a_user_deleted_while_their_rows_wait_to_be_attached_stay_deleted(
    resources: dict[str, str], source_url: str, source: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.repositories import partitions

    real = partitions.attach_staged
    deleted: list[int] = []

    def deletes_first(connection: Any, table: str, month: Any) -> None:
        if not deleted:  # an admin, meanwhile, on a connection of their own
            sql("DELETE FROM videos WHERE id = 4")
            sql("DELETE FROM users WHERE id = 13")
            deleted.append(4)
        real(connection, table, month)

    monkeypatch.setattr(partitions, "attach_staged", deletes_first)
    do_import(source_url)

    assert deleted
    assert sql("SELECT count(*) FROM video_views WHERE video_id = 4")[0][0] == 0
    assert sql("SELECT count(*) FROM video_events WHERE video_id = 4")[0][0] == 0
    assert sql("SELECT count(*) FROM video_views WHERE user_id = 13")[0][0] == 0
    others = source('SELECT count(*) FROM video_views WHERE "videoId" <> 4')[0][0]
    assert sql("SELECT count(*) FROM video_views")[0][0] == others
    assert do_import(source_url).counts.get("videos", 0) == 0  # not imported again
    assert sql("SELECT count(*) FROM video_views WHERE video_id = 4")[0][0] == 0


def test_taken_ids_get_new_ones_and_the_rows_follow(
    client: Any, resources: dict[str, str], source_url: str, source: Any
) -> None:
    make_user(1)
    sql(
        "INSERT INTO videos (id, filename, duration, file_size, width, height, orientation, quality) "
        "VALUES (1, 'videos/x/own.mp4', 10, 10, 320, 180, 'H', 'SD')"
    )
    sql("SELECT setval('videos_id_seq', 1)")
    sql("INSERT INTO video_views (video_id, ip_address) VALUES (1, 'own-view')")

    do_import(source_url)

    new_id = sql("SELECT id FROM import_ids WHERE kind = 'video' AND legacy_id = 1")[0][0]
    assert new_id not in (1, 2, 3, 4)
    assert sql("SELECT count(*) FROM video_views WHERE video_id = 1")[0][0] == 1  # only its own view
    assert sql("SELECT min(id) FROM video_views WHERE ip_legacy")[0][0] > 1  # the view ids were shifted
    expected = legacy_module.module_figures(source)[1]
    answer = analytics(client, {"Authorization": f"Bearer {token_for(11)}"}, f"/api/videos/{new_id}/analytics")
    assert report_figures(answer) == expected
    orphans = sql(
        "SELECT count(*) FROM video_events e WHERE e.view_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM video_views v WHERE v.id = e.view_id AND v.video_id = e.video_id)"
    )
    assert orphans[0][0] == 0
