"""Blocks of days in real PostgreSQL: each the merge of its days' sketches, kept so by every refold, backfilled
for a history folded before them, and merged by a breakdown over a range instead of its days."""

from __future__ import annotations

import runpy
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.day_blocks import BLOCK_LENGTHS, Cover, block_start
from chalicelib.domain.sketch import BREAKDOWNS, Sketch
from tests.support.analytics import add_view, refresh
from tests.support.database import make_user, sql

DAYS = 140  # holds a whole aligned block of every length up to 64 days
HEAVY = 120  # views in a block from which it is kept (a heavy video's blocks of 4 days or more)


def _add_views(video_id: int, count: int) -> None:
    """``count`` views spread over the last ``DAYS`` days, from 1,500 addresses, in four countries."""
    sql(
        """INSERT INTO video_views (video_id, ip_address, watch_time_seconds, created_at, country)
           SELECT :v, 'ip' || mod(n * 7919, 1500), 5, now() - make_interval(hours => 2 + mod(n * 37, 24 * :days)),
                  (CAST('{DE,FR,US,JP}' AS text[]))[mod(n, 4) + 1]
           FROM generate_series(1, :count) AS n""",
        v=video_id,
        days=DAYS,
        count=count,
    )


@pytest.fixture
def history(create_video: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A published video with views on each of the last ``DAYS`` days and a light one, folded."""
    from chalicelib.repositories.analytics import breakdown_blocks

    monkeypatch.setattr(breakdown_blocks, "HEAVY_BLOCK_VIEWS", HEAVY)
    video, light = create_video(published=True, duration=100), create_video(published=True, duration=100)
    _add_views(video["id"], 5_000)
    _add_views(light["id"], 100)
    refresh()
    return {**video, "light": light["id"]}


@dataclass
class Read:
    pieces: Cover
    sketches: int  # how many sketches the statement answered


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Read]:
    """What each breakdown reads, recorded; sketches used however few views a range holds."""
    from chalicelib.repositories.analytics import breakdown_blocks
    from chalicelib.services.analytics import breakdowns

    monkeypatch.setattr(breakdowns, "EXACT_VIEWS_LIMIT", 0)
    read = breakdown_blocks.range_sketches
    recorded: list[Read] = []

    def recording(connection: Any, scope: int, dimension: str, pieces: Cover, teams: tuple[bool, ...]) -> Any:
        answered = read(connection, scope, dimension, pieces, teams)
        recorded.append(Read(pieces, len(answered)))
        return answered

    monkeypatch.setattr(breakdown_blocks, "range_sketches", recording)
    return recorded


def _blocks() -> dict[tuple[Any, ...], bytes]:
    rows = sql("SELECT scope_id, dimension, team, value, days, first_day, sketch FROM analytics_breakdown_blocks")
    return {tuple(row[:6]): bytes(row.sketch) for row in rows}


def _assert_every_block_is_the_merge_of_its_days_and_kept_where_heavy() -> None:
    days: dict[tuple[Any, ...], list[tuple[date, bytes]]] = defaultdict(list)
    for row in sql(
        "SELECT scope_id, dimension, team, value, day, sketch FROM analytics_breakdown_days "
        "WHERE dimension <> '' AND sketch IS NOT NULL"
    ):
        days[tuple(row[:4])].append((row.day, bytes(row.sketch)))
    blocks = _blocks()
    for (*keys, length, first), blob in blocks.items():
        merged = Sketch(BREAKDOWNS.bits)
        for day, sketch in days[tuple(keys)]:
            if first <= day < first + timedelta(days=length):
                merged.merge_blob(sketch)
        assert Sketch.decode(blob, BREAKDOWNS.bits).registers() == merged.registers(), (keys, length, first)
    views: dict[tuple[int, date], int] = defaultdict(int)
    for row in sql("SELECT scope_id, day, views FROM analytics_breakdown_days WHERE dimension = ''"):
        views[row.scope_id, row.day] += row.views
    whole_until = sql("SELECT CAST(at AT TIME ZONE 'UTC' AS date) FROM analytics_state WHERE name = 'folded_until'")
    expected = set()
    for keys, held in days.items():
        for length in BLOCK_LENGTHS:
            for start in {block_start(day, length) for day, _ in held}:
                block = [start + timedelta(days=n) for n in range(length)]
                heavy = sum(views[keys[0], day] for day in block) >= HEAVY
                if heavy and start + timedelta(days=length) <= whole_until[0][0]:
                    expected.add((*keys, length, start))
    assert set(blocks) == expected
    assert {length for *_, length, _ in blocks} >= {4, 8, 16, 32, 64}


def test_the_fold_builds_each_whole_heavy_block_as_the_merge_of_its_days(history: dict[str, Any]) -> None:
    _assert_every_block_is_the_merge_of_its_days_and_kept_where_heavy()


def test_every_all_time_sketch_is_the_merge_of_its_days_through_backlog_and_steady_steps(
    history: dict[str, Any],
) -> None:
    """A backlog's steps build whole days; a steady refresh merges the viewers of its minutes into today's:
    either way each value's all-time sketch holds exactly its days' viewers."""
    sql(
        """INSERT INTO video_views (video_id, ip_address, created_at, country)
           SELECT :v, 'late' || n, now() - make_interval(secs => n), 'DE' FROM generate_series(1, 20) AS n""",
        v=history["id"],
    )
    refresh()  # a steady step: today is merged into, not rebuilt
    days: dict[tuple[Any, ...], Sketch] = defaultdict(lambda: Sketch.decode(None, BREAKDOWNS.bits))
    for row in sql(
        "SELECT scope_id, dimension, team, value, sketch FROM analytics_breakdown_days WHERE dimension <> ''"
    ):
        days[tuple(row[:4])].merge_blob(bytes(row.sketch))
    totals = {
        tuple(row[:4]): bytes(row.sketch)
        for row in sql("SELECT scope_id, dimension, team, value, sketch FROM analytics_breakdown_totals")
    }
    assert totals.keys() == days.keys()
    assert {key: sketch.encode() for key, sketch in days.items()} == totals


def test_a_breakdown_over_a_range_merges_heavy_blocks_and_light_days_as_its_days_would(
    client: Any, admin_headers: dict[str, str], history: dict[str, Any], reads: list[Read]
) -> None:
    last = datetime.now(UTC).date() - timedelta(days=3)
    first = last - timedelta(days=99)
    query = f"by=country&metric=uniqueViewers&startDate={first}&endDate={last}&tz=UTC"
    for scope, path in (
        (history["id"], f"/api/videos/{history['id']}/analytics/breakdown"),
        (history["light"], f"/api/videos/{history['light']}/analytics/breakdown"),
        (0, "/api/videos/analytics/breakdown"),
    ):
        response = client.http.get(f"{path}?{query}", headers=admin_headers)
        assert response.status_code == 200, response.body
        merged: dict[str, Sketch] = defaultdict(lambda: Sketch(BREAKDOWNS.bits))
        days = sql(
            "SELECT value, sketch FROM analytics_breakdown_days WHERE scope_id = :scope AND dimension = 'country' "
            "AND day BETWEEN :first AND :last AND sketch IS NOT NULL",
            scope=scope,
            first=first,
            last=last,
        )
        for row in days:
            merged[row.value].merge_blob(bytes(row.sketch))
        answered = {row["value"]: row["uniqueViewers"] for row in response.json_body["rows"]}
        assert answered == {value: sketch.estimate() for value, sketch in merged.items()}
        assert len(answered) == 4
        pieces = reads[-1].pieces
        assert len(pieces.blocks) >= 4 and len(pieces.blocks) + len(pieces.days) <= 18
        # The light video's days are read one by one; the heavy scopes' blocks are read instead of theirs.
        assert (reads[-1].sketches == len(days)) == (scope == history["light"])


def test_an_erasure_rebuilds_the_blocks_holding_its_days(history: dict[str, Any]) -> None:
    from chalicelib.db.engine import transaction
    from chalicelib.repositories.analytics import maintenance, state
    from chalicelib.services.analytics import folding

    user = make_user(role="USER")
    at = datetime.now(UTC) - timedelta(days=50)
    add_view(history["id"], user_id=user, at=at, country="ZZ")
    add_view(history["id"], user_id=user, at=at - timedelta(days=30), country="DE")
    sql("DELETE FROM analytics_state WHERE name = 'folded_until'")
    sql("DELETE FROM analytics_breakdown_blocks")
    refresh()
    assert any(value == "ZZ" for _, _, _, value, *_ in _blocks())
    with transaction() as connection:
        state.lock(connection)
        views, events = maintenance.delete_user_views(connection, user)
        assert folding.refold(connection, views + events) == 2
    assert not any(value == "ZZ" for _, _, _, value, *_ in _blocks())
    _assert_every_block_is_the_merge_of_its_days_and_kept_where_heavy()


def test_blocks_of_a_history_folded_before_them_are_backfilled_and_used_only_when_done(
    client: Any, admin_headers: dict[str, str], history: dict[str, Any], reads: list[Read]
) -> None:
    built = _blocks()
    sql("DELETE FROM analytics_breakdown_blocks")
    migration = runpy.run_path("migrations/versions/0019_breakdown_day_blocks.py")
    sql(migration["_BACKFILL"])
    last = datetime.now(UTC).date() - timedelta(days=3)
    query = f"by=country&metric=uniqueViewers&startDate={last - timedelta(days=60)}&endDate={last}&tz=UTC"
    path = f"/api/videos/{history['id']}/analytics/breakdown"
    assert client.http.get(f"{path}?{query}", headers=admin_headers).status_code == 200
    assert reads[-1].pieces.blocks == [] and len(reads[-1].pieces.days) == 61
    refresh()
    assert sql("SELECT count(*) FROM analytics_state WHERE name = 'breakdown_blocks_backfill'")[0][0] == 0
    assert _blocks() == built
    assert client.http.get(f"{path}?{query}", headers=admin_headers).status_code == 200
    assert reads[-1].pieces.blocks
