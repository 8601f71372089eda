"""Players in real time over real HTTP: live viewers, peaks and audience retention.

Four players watch a 10-second video on the local server at once, each sending a
heartbeat with its position every half second and stopping at a different point (one
seeks ahead). The live count, the day's peak and the retention curve must say exactly
that, before and after the refresh folds it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.analytics import refresh
from tests.support.api import token_for
from tests.support.database import make_user, sql
from tests.support.env import BASE_ENV
from tests.support.http import request
from tests.support.local_server import LocalServer, local_server

DURATION = 10
TICK = 0.5


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url}
    with local_server(env, log=tmp_path / "server.log") as server:
        yield server


def player(base: str, video_id: int, number: int, plan: list[tuple[float, float]], errors: list[str]) -> None:
    """Play each ``(from, to)`` span of ``plan`` in real time; a jump between spans is a seek event."""
    ip = f"127.0.7.{number + 1}"
    view = request(base, "POST", "/api/track/view", {"videoId": video_id}, source_ip=ip)
    if view.status != 200:
        errors.append(f"view {view.status}")
        return
    ids = {"viewId": view.body["viewId"], "viewToken": view.body["viewToken"]}
    watched = 0.0
    for span_number, (start, stop) in enumerate(plan):
        if span_number:
            seek = {"videoId": video_id, **ids, "eventType": "seek", "timestamp": start}
            answer = request(base, "POST", "/api/track/event", seek, source_ip=ip)
            if answer.status != 200:
                errors.append(f"seek {answer.status}")
        began = time.monotonic()
        position = start
        while position < stop:
            time.sleep(TICK)
            position = min(stop, start + time.monotonic() - began)
            watched += TICK
            beat = {**ids, "watchTimeSeconds": round(watched, 2), "position": round(position, 2)}
            answer = request(base, "POST", "/api/track/heartbeat", beat, source_ip=ip)
            if answer.status != 200:
                errors.append(f"heartbeat {answer.status}: {answer.body}")


def get(base: str, path: str, token: str) -> Any:
    answer = request(base, "GET", path, headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200, answer.body
    return answer.body


def test_players_watching_at_once_are_live_peak_and_shape_the_retention_curve(served: LocalServer) -> None:
    video_id = sql(
        """INSERT INTO videos (filename, title, duration, file_size, width, height, orientation, quality, is_published)
           VALUES ('live/clip.mp4', 'Live clip', :d, 1, 640, 360, 'H', 'SD', true) RETURNING id""",
        d=DURATION,
    )[0][0]
    token = token_for(make_user(role="SUPER_ADMIN"))
    plans = [[(0, 2.5)], [(0, 8)], [(0, 10)], [(0, 1.5), (7.5, 9)]]  # the last one seeks from 1.5 s to 7.5 s
    errors: list[str] = []
    threads = [
        threading.Thread(target=player, args=(served.base, video_id, number, plan, errors))
        for number, plan in enumerate(plans)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(1.2)
    assert get(served.base, f"/api/videos/{video_id}/analytics/live", token)["concurrentViewers"] == 4
    library = get(served.base, "/api/videos/analytics/live", token)
    assert library["concurrentViewers"] == 4
    assert library["videos"] == [{"id": video_id, "title": "Live clip", "concurrentViewers": 4}]
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []

    today = datetime.now(UTC).date().isoformat()
    for _ in range(2):  # from raw rows, then folded
        curve = get(served.base, f"/api/videos/{video_id}/analytics/retention?startDate={today}", token)
        assert (curve["duration"], curve["views"], len(curve["points"])) == (DURATION, 4, 100)
        viewers = {point["percent"]: point["viewers"] for point in curve["points"]}
        # 0.5 s: everyone; 2 s: all but the seeker (gone at 1.5 s); 4 and 7 s: two; 7.6 s: the seeker is back;
        # 8.5 s: the one who stopped at 8 is gone; 9.5 s: the one who watched to the end.
        at = [5, 20, 40, 70, 76, 85, 95]
        assert [viewers[percent] for percent in at] == [4, 3, 2, 2, 3, 2, 1]
        assert curve["points"][40]["ratio"] == 0.5
        report = get(served.base, f"/api/videos/{video_id}/analytics?startDate={today}", token)
        assert report["viewsByDay"][-1]["peakConcurrentViewers"] == 4
        refresh()

    # A player is live for 30 s after its last heartbeat. Rather than wait, move every view's last activity
    # back by what is left of the 35.5 s since the start: the ones last heard at 2.5 s and about 3 s are then
    # 33 and 32.5 s old and no longer live; those last heard at 8 and 10 s are 27.5 and 25.5 s old and still are.
    age_by = max(0.0, started + 4.5 + 31 - time.monotonic())
    sql(
        "UPDATE video_views SET last_seen_at = last_seen_at - make_interval(secs => :seconds) WHERE video_id = :video",
        seconds=age_by,
        video=video_id,
    )
    assert get(served.base, f"/api/videos/{video_id}/analytics/live", token)["concurrentViewers"] == 2
    assert datetime.now(UTC) - timedelta(seconds=60) < datetime.fromisoformat(
        get(served.base, "/api/videos/analytics/live", token)["asOf"]
    )
