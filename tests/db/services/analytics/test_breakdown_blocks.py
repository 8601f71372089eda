"""Blocks of days in real PostgreSQL: each the merge of its days' sketches, kept so by every refold, backfilled
for a history folded before them, and merged by a breakdown over a range instead of its days."""

from __future__ import annotations

import runpy
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.day_blocks import Cover, cover
from chalicelib.domain.sketch import BREAKDOWNS, Sketch
from tests.support.analytics import add_view, refresh
from tests.support.database import make_user, sql

DAYS = 140  # holds a whole aligned block of every length up to 64 days


@pytest.fixture
def history(create_video: Any) -> dict[str, Any]:
    """A published video with views on each of the last ``DAYS`` days, folded."""
    video = create_video(published=True, duration=100)
    sql(
        """INSERT INTO video_views (video_id, ip_address, watch_time_seconds, created_at, country)
           SELECT :v, 'ip' || mod(n * 7919, 1500), 5, now() - make_interval(hours => 2 + mod(n * 37, 24 * :days)),
                  (CAST('{DE,FR,US,JP}' AS text[]))[mod(n, 4) + 1]
           FROM generate_series(1, 5000) AS n""",
        v=video["id"],
        days=DAYS,
    )
    refresh()
    return video


@pytest.fixture
def pieces(monkeypatch: pytest.MonkeyPatch) -> list[Cover]:
    """The days and blocks each breakdown reads, recorded; sketches used however few views a range holds."""
    from chalicelib.repositories.analytics import breakdown_blocks
    from chalicelib.services.analytics import breakdowns

    monkeypatch.setattr(breakdowns, "EXACT_VIEWS_LIMIT", 0)
    read = breakdown_blocks.range_sketches
    recorded: list[Cover] = []

    def recording(connection: Any, scope: int, dimension: str, cover: Cover, teams: tuple[bool, ...]) -> Any:
        recorded.append(cover)
        return read(connection, scope, dimension, cover, teams)

    monkeypatch.setattr(breakdown_blocks, "range_sketches", recording)
    return recorded


def _blocks() -> dict[tuple[Any, ...], bytes]:
    rows = sql("SELECT scope_id, dimension, team, value, days, first_day, sketch FROM analytics_breakdown_blocks")
    return {tuple(row[:6]): bytes(row.sketch) for row in rows}


def _assert_every_block_is_the_merge_of_its_days() -> None:
    days: dict[tuple[Any, ...], list[tuple[date, bytes]]] = defaultdict(list)
    for row in sql(
        "SELECT scope_id, dimension, team, value, day, sketch FROM analytics_breakdown_days "
        "WHERE dimension <> '' AND sketch IS NOT NULL"
    ):
        days[tuple(row[:4])].append((row.day, bytes(row.sketch)))
    blocks = _blocks()
    assert {length for *_, length, _ in blocks} >= {2, 4, 8, 16, 32, 64}
    for (*keys, length, first), blob in blocks.items():
        merged = Sketch(BREAKDOWNS.bits)
        for day, sketch in days[tuple(keys)]:
            if first <= day < first + timedelta(days=length):
                merged.merge_blob(sketch)
        assert Sketch.decode(blob, BREAKDOWNS.bits).registers() == merged.registers(), (keys, length, first)
    whole_until = sql("SELECT CAST(at AT TIME ZONE 'UTC' AS date) FROM analytics_state WHERE name = 'folded_until'")
    for keys, held in days.items():
        for length in (2, 64):
            for day, _ in held:
                if cover(day, day + timedelta(days=length - 1), whole_until[0][0]).blocks == [(length, day)]:
                    assert (*keys, length, day) in blocks


def test_the_fold_builds_each_whole_block_as_the_merge_of_its_days(history: dict[str, Any]) -> None:
    _assert_every_block_is_the_merge_of_its_days()


def test_a_breakdown_over_a_range_merges_its_blocks_as_its_days_would(
    client: Any, admin_headers: dict[str, str], history: dict[str, Any], pieces: list[Cover]
) -> None:
    last = datetime.now(UTC).date() - timedelta(days=3)
    first = last - timedelta(days=99)
    path = f"/api/videos/{history['id']}/analytics/breakdown"
    query = f"by=country&metric=uniqueViewers&startDate={first}&endDate={last}&tz=UTC"
    response = client.http.get(f"{path}?{query}", headers=admin_headers)
    assert response.status_code == 200, response.body
    assert pieces and len(pieces[0].blocks) >= 4 and len(pieces[0].blocks) + len(pieces[0].days) <= 18
    merged: dict[str, Sketch] = defaultdict(lambda: Sketch(BREAKDOWNS.bits))
    for row in sql(
        "SELECT value, sketch FROM analytics_breakdown_days WHERE scope_id = :v AND dimension = 'country' "
        "AND day BETWEEN :first AND :last AND sketch IS NOT NULL",
        v=history["id"],
        first=first,
        last=last,
    ):
        merged[row.value].merge_blob(bytes(row.sketch))
    answered = {row["value"]: row["uniqueViewers"] for row in response.json_body["rows"]}
    assert answered == {value: sketch.estimate() for value, sketch in merged.items()}
    assert len(answered) == 4


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
    _assert_every_block_is_the_merge_of_its_days()


def test_blocks_of_a_history_folded_before_them_are_backfilled_and_used_only_when_done(
    client: Any, admin_headers: dict[str, str], history: dict[str, Any], pieces: list[Cover]
) -> None:
    built = _blocks()
    sql("DELETE FROM analytics_breakdown_blocks")
    migration = runpy.run_path("migrations/versions/0019_breakdown_day_blocks.py")
    sql(migration["_BACKFILL"])
    last = datetime.now(UTC).date() - timedelta(days=3)
    query = f"by=country&metric=uniqueViewers&startDate={last - timedelta(days=60)}&endDate={last}&tz=UTC"
    path = f"/api/videos/{history['id']}/analytics/breakdown"
    assert client.http.get(f"{path}?{query}", headers=admin_headers).status_code == 200
    assert pieces[-1].blocks == [] and len(pieces[-1].days) == 61
    refresh()
    assert sql("SELECT count(*) FROM analytics_state WHERE name = 'breakdown_blocks_backfill'")[0][0] == 0
    assert _blocks() == built
    assert client.http.get(f"{path}?{query}", headers=admin_headers).status_code == 200
    assert pieces[-1].blocks
