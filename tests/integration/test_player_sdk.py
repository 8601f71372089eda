"""The tracking SDK in headless Chromium, on a page of another origin that uses nothing else (the
three lines of docs/sdk.md), against the local server: what it sends and when, that the server
recorded exactly what the viewer did, its retries without double counting, and its quality of
experience figures against the page's own measurements."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import ConsoleErrors, chromium, serve
from tests.support.database import sql
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, local_server
from tests.support.player import (
    SDK_PAGE,
    STALL_WATCH,
    Stall,
    Tabs,
    TrackingLog,
    current_time,
    make_clip,
    make_hls,
    site_handler,
    wait_for,
)

SECONDS = 12
MODULE_PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>watch</title>
<video id="video" src="{media}" muted playsinline preload="auto"></video>
<script type="module">
  import {{ attach }} from "{api}/api/sdk/tracker.mjs";
  window.tracker = attach(document.getElementById("video"), {{apiUrl: "{api}", videoId: {id}}});
</script>"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=SECONDS)


@pytest.fixture
def stall(clip: Path) -> Stall:
    """Unused unless a test's page plays ``slow.mp4``: it stops a third of the way in until released."""
    return Stall("slow.mp4", clip.stat().st_size // 3)


@pytest.fixture
def site(tmp_path: Path, clip: Path, stall: Stall) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "clip.mp4").write_bytes(clip.read_bytes())
    (root / "slow.mp4").write_bytes(clip.read_bytes())
    with serve(site_handler(root, stall)) as origin:
        yield root, origin


@pytest.fixture
def api(site: tuple[Path, str], database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url, "CORS_ALLOWED_ORIGINS": site[1]}
    with local_server(env, log=tmp_path / "server.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def tabs(browser: Any) -> Iterator[Tabs]:
    opened = Tabs(browser)
    yield opened
    opened.close()


@pytest.fixture
def video_id() -> int:
    rows = sql(
        """INSERT INTO videos (filename, title, duration, file_size, width, height, orientation, quality, is_published)
           VALUES ('sdk/clip.mp4', 'SDK clip', :d, 1, 640, 360, 'H', 'SD', true) RETURNING id""",
        d=SECONDS,
    )
    return int(rows[0][0])


def page_at(site: tuple[Path, str], name: str, template: str, **values: Any) -> str:
    (site[0] / name).write_text(template.format(**values))
    return f"{site[1]}/{name}"


def view_row(video_id: int) -> dict[str, Any]:
    rows = sql(
        "SELECT id, watch_time_seconds, completed, last_position, last_seen_at FROM video_views WHERE video_id = :v",
        v=video_id,
    )
    assert len(rows) == 1, rows  # one view per page load
    return dict(rows[0]._mapping)


def event_types(video_id: int) -> list[str]:
    return [row[0] for row in sql("SELECT event_type FROM video_events WHERE video_id = :v ORDER BY id", v=video_id)]


def test_a_viewer_who_plays_seeks_and_watches_to_the_end_is_recorded_as_they_did(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs, tmp_path: Path
) -> None:
    url = page_at(site, "watch.html", SDK_PAGE, api=api.base, id=video_id, media="clip.mp4")
    log, errors = TrackingLog(), ConsoleErrors()
    page = tabs.open(url, log, errors)
    assert log.requests == []  # nothing is sent before the viewer asks to play
    page.evaluate("window.watch()")
    wait_for(page=page, probe=lambda: log.of("heartbeat"), what="the first heartbeat")
    [view] = log.of("view")
    assert view == {"kind": "view", "videoId": video_id, "referer": url}
    first = log.of("heartbeat")[0]
    assert first["qoe"]["rebufferCount"] == 0 and first["viewToken"]

    wait_for(page=page, probe=lambda: current_time(page) >= 3, what="3 s of playback")
    page.evaluate("document.getElementById('video').currentTime = 8")
    seek = wait_for(page=page, probe=lambda: log.of("event", eventType="seek"), what="the seek event")[0]
    assert seek["timestamp"] == 8
    before = [beat for beat in log.of("heartbeat") if 2.7 <= beat["position"] < 8]  # timeupdate: every 250 ms
    assert before, log.items()  # the part played before the jump is reported before the seek
    assert log.items().index(before[-1]) < log.items().index(seek)

    wait_for(page=page, probe=lambda: log.of("event", eventType="complete"), timeout=30, what="the end")
    [last] = log.of("heartbeat", ended=True)
    measured = page.evaluate("window.measured")
    page.screenshot(path=str(tmp_path / "sdk-page.png"))

    startup = measured["playing"] - measured["requested"]
    assert abs(last["qoe"]["startupTimeMs"] - startup) <= 100, (last["qoe"], startup)
    assert 6 <= last["watchTimeSeconds"] <= 8.5  # 0 → 3 and 8 → 12
    assert last["position"] == SECONDS
    assert [item["eventType"] for item in log.of("event")] == ["play", "seek", "complete"]
    # The log holds what the page sent; the last beacons may still be on their way to the database.
    stored = (True, int(last["watchTimeSeconds"]))
    wait_for(
        page=page,
        probe=lambda: (view_row(video_id)["completed"], view_row(video_id)["watch_time_seconds"]) == stored,
        timeout=10,
        what="the end and the last heartbeat stored",
    )
    row = view_row(video_id)
    assert row["completed"] is True
    assert row["watch_time_seconds"] == int(last["watchTimeSeconds"])
    assert event_types(video_id) == ["play", "seek", "complete"]
    assert errors == []


def test_the_module_build_attaches_the_same_way(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs
) -> None:
    url = page_at(site, "module.html", MODULE_PAGE, api=api.base, id=video_id, media="clip.mp4")
    log, errors = TrackingLog(), ConsoleErrors()
    page = tabs.open(url, log, errors)
    page.wait_for_function("window.tracker")
    page.evaluate("document.getElementById('video').play()")
    wait_for(page=page, probe=lambda: page.evaluate("window.tracker.viewId"), what="the view")
    wait_for(page=page, probe=lambda: log.of("heartbeat"), what="the first heartbeat")
    assert view_row(video_id)["id"] == log.of("heartbeat")[0]["viewId"]
    assert errors == []


def test_pause_sends_a_heartbeat_and_the_event_together_and_leaving_ends_the_view(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs
) -> None:
    url = page_at(site, "watch.html", SDK_PAGE, api=api.base, id=video_id, media="clip.mp4")
    log = TrackingLog()
    page = tabs.open(url, log)
    page.evaluate("window.watch()")
    wait_for(page=page, probe=lambda: current_time(page) >= 2, what="2 s of playback")
    page.evaluate("document.getElementById('video').pause()")
    wait_for(page=page, probe=lambda: log.of("event", eventType="pause"), what="the pause event")
    batch = [body for path, body in log.requests if path == "batch"][-1]
    assert [item["kind"] for item in batch["events"]] == ["heartbeat", "event"]  # one request, one position
    assert batch["events"][0]["position"] == batch["events"][1]["timestamp"]
    wait_for(page=page, probe=lambda: view_row(video_id)["watch_time_seconds"] >= 2, what="the paused watch time")
    seen = view_row(video_id)["last_seen_at"]
    page.close(run_before_unload=True)  # the tab is closed: a beacon ends the view
    wait_for(lambda: view_row(video_id)["last_seen_at"] > seen, timeout=10, what="the closing beacon")


def test_retries_after_a_503_and_a_network_failure_count_nothing_twice(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs
) -> None:
    url = page_at(site, "watch.html", SDK_PAGE, api=api.base, id=video_id, media="clip.mp4")
    log = TrackingLog()
    refused: list[str] = []

    def refuse_once(route: Any) -> None:
        path = route.request.url.split("/api/track/")[1]
        if path not in refused:  # the first view, heartbeat and batch: 503, then a lost connection
            refused.append(path)
            if path == "view":
                route.fulfill(status=503, headers={"Retry-After": "1"}, body='{"error":"ServiceUnavailable"}')
            else:
                route.abort("connectionreset")
            return
        route.continue_()

    page = tabs.open(url, log)
    page.route("**/api/track/*", refuse_once)
    page.evaluate("window.watch()")
    wait_for(page=page, probe=lambda: log.of("event", eventType="complete"), timeout=40, what="the end")
    wait_for(page=page, probe=lambda: view_row(video_id)["completed"], timeout=15, what="the recorded end")
    assert len(log.of("view")) == 2  # refused once (Retry-After: 1), then created
    assert {"view", "batch"} <= set(refused)
    assert event_types(video_id) == ["play", "complete"]  # each once, whatever was retried
    assert SECONDS - 1 <= view_row(video_id)["watch_time_seconds"] <= SECONDS


def test_a_broken_source_reports_a_failed_playback(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs
) -> None:
    (site[0] / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    url = page_at(site, "broken.html", SDK_PAGE, api=api.base, id=video_id, media="broken.mp4")
    log = TrackingLog()
    page = tabs.open(url, log, ready=False)
    beat = wait_for(page=page, probe=lambda: log.of("heartbeat"), what="the failure's heartbeat")[0]
    assert beat["qoe"]["errorCode"] == "MEDIA_ERR_SRC_NOT_SUPPORTED"
    assert "startupTimeMs" not in beat["qoe"]
    assert view_row(video_id)["id"] == beat["viewId"]


def test_a_stall_on_a_slow_network_is_rebuffering_and_a_seek_is_not(
    api: LocalServer, site: tuple[Path, str], video_id: int, stall: Stall, tabs: Tabs
) -> None:
    url = page_at(site, "slow.html", SDK_PAGE, api=api.base, id=video_id, media="slow.mp4")
    log = TrackingLog()
    page = tabs.open(url, log)
    page.evaluate(STALL_WATCH)  # the page's own measurement of its stalls
    page.evaluate("window.watch()")
    wait_for(page=page, probe=lambda: current_time(page) >= 1, what="1 s of playback")
    page.evaluate("document.getElementById('video').currentTime = 2")  # buffered: no waiting
    wait_for(page=page, probe=lambda: page.evaluate("window.waitingSince"), timeout=30, what="the stall")
    page.wait_for_timeout(1500)
    stall.release()
    wait_for(page=page, probe=lambda: log.of("event", eventType="complete"), timeout=60, what="the end")
    stalls = page.evaluate("window.stalls")
    [last] = log.of("heartbeat", ended=True)
    assert last["qoe"]["rebufferCount"] == len(stalls) >= 1, (last, stalls)
    assert abs(last["qoe"]["rebufferMs"] - sum(stalls)) <= 100 * len(stalls)
    assert last["qoe"]["rebufferMs"] >= 1000


HLS_PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>watch</title>
<video id="video" muted playsinline width="640" height="360"></video>
<script src="{api}/api/assets/hls.js"></script>
<script src="{api}/api/sdk/tracker.js"></script>
<script>
  const video = document.getElementById("video");
  const hls = new Hls();
  hls.loadSource("{source}");
  hls.attachMedia(video);
  window.tracker = MediaTracker.attach(video, {{apiUrl: "{api}", videoId: {id}, hls: hls}});
</script>"""


def test_with_hls_js_the_rendition_played_is_reported(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs, clip: Path
) -> None:
    make_hls(site[0] / "hls", clip)
    url = page_at(site, "hls.html", HLS_PAGE, api=api.base, id=video_id, source="hls/master.m3u8")
    log, errors = TrackingLog(), ConsoleErrors()
    page = tabs.open(url, log, errors)
    page.evaluate("document.getElementById('video').play()")
    wait_for(page=page, probe=lambda: current_time(page) >= 2.5, what="2.5 s of HLS playback")
    page.evaluate("document.getElementById('video').pause()")
    wait_for(page=page, probe=lambda: log.of("event", eventType="pause"), what="the pause")
    beat = log.of("heartbeat")[-1]  # sent with the pause event
    assert (beat["qoe"]["bitrateKbps"], beat["qoe"]["height"]) == (800, 360)  # the master playlist's rung
    assert "errorCode" not in beat["qoe"]
    assert errors == []


def test_a_fatal_hls_js_error_is_a_failed_playback(
    api: LocalServer, site: tuple[Path, str], video_id: int, tabs: Tabs
) -> None:
    url = page_at(site, "missing.html", HLS_PAGE, api=api.base, id=video_id, source="hls/missing.m3u8")
    log = TrackingLog()
    page = tabs.open(url, log, ready=False)
    beat = wait_for(page=page, probe=lambda: log.of("heartbeat"), what="the failure's heartbeat")[0]
    assert beat["qoe"]["errorCode"] == "hls:networkError:manifestLoadError"
    assert view_row(video_id)["id"] == beat["viewId"]
