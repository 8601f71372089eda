"""The local stand-in for EventBridge rules (``scripts/local_schedules.py``) running the real
handlers against PostgreSQL. The instant is passed in, so nothing waits for a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scripts.local_schedules import (
    LocalScheduleRunner,
    discover,
)
from tests.support.analytics import add_view
from tests.support.database import sql

START = datetime(2026, 5, 1, 3, 14, 30, tzinfo=UTC)  # a Friday, 30 s before the daily retention


# --- the runner -------------------------------------------------------------------------------


def test_run_due_refreshes_the_analytics_roll_ups_and_survives_a_failing_function(
    create_video: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import app

    video = create_video(published=True, duration=100)
    earlier = datetime.now(UTC) - timedelta(minutes=5)  # the refresh leaves the last minute for next time
    add_view(video["id"], watch=100, completed=True, ip="a" * 64, at=earlier)
    add_view(video["id"], watch=50, ip="b" * 64, at=earlier)
    totals = (
        "SELECT watch_time_seconds, viewers, completed_views FROM analytics_totals WHERE scope_id = :i AND NOT team"
    )
    assert sql(totals, i=video["id"]) == []

    def broken(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("scheduler emulator unreachable")

    monkeypatch.setitem(app.handler_map, "reconcile_video_schedules", broken)
    wanted = {"reconcile_video_schedules", "refresh_video_analytics"}
    runner = LocalScheduleRunner([function for function in discover() if function.name in wanted])

    assert runner.run_due(START) == {"reconcile_video_schedules": False, "refresh_video_analytics": True}
    assert [tuple(row) for row in sql(totals, i=video["id"])] == [(150, 2, 1)]
    # The failure is retried at its next fire time, not on the next tick.
    assert runner.due(START + timedelta(seconds=2)) == []
    assert runner.next_fire_times(START)["reconcile_video_schedules"] == START + timedelta(seconds=60)
