"""A backlog folded several weeks at once (an import's history) in real PostgreSQL: the very roll-ups the
refresh's steps write, a run cut short carried on by the next refresh, and no total moved before its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.analytics import add_event, add_view, refresh, report, rollup_digest, unfold, without_freshness
from tests.support.database import make_user, sql

DAYS = 40  # six weeks of the backlog's steps, the first and the last ones partial
ZONE = "America/New_York"  # a kept zone whose local days straddle the steps' UTC midnights


@pytest.fixture
def history(create_video: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two videos with views every few hours over ``DAYS`` days (signed-in and anonymous viewers, team views,
    countries, devices, referrers, completions) and events; the UTC and New York zones kept."""
    from chalicelib.repositories.analytics import breakdown_blocks

    monkeypatch.setattr(breakdown_blocks, "HEAVY_BLOCK_VIEWS", 20)
    videos = [create_video(published=True, duration=100)["id"] for _ in range(2)]
    users = [make_user(email=f"viewer{n}@example.com") for n in range(3)]
    now = datetime.now(UTC)
    for n in range(DAYS * 6):
        at = now - timedelta(days=DAYS) + timedelta(hours=4 * n, minutes=n % 50)
        video = videos[n % 2]
        view = add_view(
            video,
            watch=n % 90,
            completed=n % 5 == 0,
            user_id=users[n % 3] if n % 4 == 0 else None,
            ip=f"ip{n % 17}",
            referer=f"https://site{n % 3}.example/page" if n % 2 else None,
            at=at,
            team=n % 9 == 0,
            country=("DE", "US", "JP")[n % 3],
            device_type=("desktop", "mobile")[n % 2],
        )
        kind = ("play", "pause", "complete")[n % 3]
        add_event(video, kind, view_id=view, at=at + timedelta(seconds=30), team=n % 9 == 0)  # as its view
    sql("INSERT INTO analytics_zones (zone) VALUES (:zone)", zone=ZONE)
    return {"videos": videos}


def _folded_by_the_refresh() -> dict[str, Any]:
    """The roll-ups of the refresh's own steps, a week at a time on one connection; then none."""
    refresh()
    digest = rollup_digest()
    unfold()
    return digest


def test_a_backlog_folded_weeks_at_once_writes_what_the_refresh_steps_write(history: dict[str, Any]) -> None:
    from chalicelib.services.analytics import backlog

    expected = _folded_by_the_refresh()
    result = backlog.fold(workers=2, settle=timedelta(0))

    assert result.finished and result.steps >= 6
    assert rollup_digest() == expected


def test_zones_asked_for_before_the_first_fold_are_built_by_the_backlog(history: dict[str, Any]) -> None:
    from chalicelib.services.analytics import backlog

    expected = _folded_by_the_refresh()
    sql("UPDATE analytics_zones SET materialized_at = NULL")
    backlog.fold(workers=2, settle=timedelta(0))

    assert rollup_digest() == expected
    assert sql("SELECT count(*) FROM analytics_zones WHERE materialized_at IS NULL")[0][0] == 0


def test_a_backlog_cut_short_moves_no_total_and_the_next_refresh_ends_it(
    history: dict[str, Any], client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.repositories.analytics import state
    from chalicelib.services.analytics import backlog

    expected = _folded_by_the_refresh()
    video = history["videos"][0]
    before = without_freshness(report(client, admin_headers, f"/api/videos/{video}/analytics"))
    fold_week = backlog._fold_week
    folded: list[datetime] = []

    def failing_third(plan: Any, start: datetime, end: datetime) -> None:
        if len(folded) == 2:
            raise RuntimeError("the database went away")
        fold_week(plan, start, end)
        folded.append(start)

    monkeypatch.setattr(backlog, "_fold_week", failing_third)
    with pytest.raises(RuntimeError, match="went away"):
        backlog.fold(workers=1, settle=timedelta(0))

    assert sql("SELECT count(*) FROM analytics_totals")[0][0] == 0
    with_state = {name for (name,) in sql("SELECT name FROM analytics_state")}
    assert state.BACKLOG_DONE in with_state
    assert without_freshness(report(client, admin_headers, f"/api/videos/{video}/analytics")) == before  # read raw

    monkeypatch.setattr(backlog, "_fold_week", fold_week)
    assert refresh().finished
    assert rollup_digest() == expected
    assert state.BACKLOG_DONE not in {name for (name,) in sql("SELECT name FROM analytics_state")}
