"""The embed page in headless Chromium, as a blog embeds it: an <iframe> of ``/api/embed/{id}`` on a
page of another origin (one that is not in CORS_ALLOWED_ORIGINS: the page's tracking posts from the
API's own origin). Several viewers, each a browser context with its own User-Agent and
``CloudFront-Viewer-Country``, play it with the keyboard; the views record who they were and how
playback went, and a closed tab leaves the live count within 5 s."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import token_for
from tests.support.browser import ConsoleErrors, chromium, static_site
from tests.support.database import make_user, sql
from tests.support.env import BASE_ENV
from tests.support.http import request
from tests.support.local_server import LocalServer, local_server
from tests.support.media import upload
from tests.support.player import MEASURE_EMBED, TrackingLog, artifacts, make_clip, make_poster, make_ready, wait_for

SECONDS = 20  # long enough for three viewers to be watching at once on a busy machine
LOADED = "document.getElementById('player').readyState >= 1"  # polled from Python: the page's policy forbids eval
BLOG = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>A blog</title>
<h1>Harbour at dawn</h1>
<iframe src="{api}/api/embed/{id}" width="640" height="360" title="Harbour at dawn" frameborder="0"
  allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>"""


@dataclass(frozen=True)
class Viewer:
    name: str
    user_agent: str
    country: str
    device: str
    browser: str
    os: str


VIEWERS = (
    Viewer(
        "desktop",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "DE", "desktop", "Chrome", "Linux",
    ),
    Viewer(
        "phone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "FR", "mobile", "Mobile Safari", "iOS",
    ),
    Viewer(
        "tablet",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        "JP", "tablet", "Chrome", "Android",
    ),
)  # fmt: skip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=SECONDS)


@pytest.fixture
def api(media_bucket: str, moto_endpoint: str, database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "CORS_ALLOWED_ORIGINS": "https://frontend.example",  # not the blog: the embed page needs no CORS
    }
    with local_server(env, log=tmp_path / "server.log", own_url=True) as server:
        yield server


@pytest.fixture
def video_id(media_bucket: str, clip: Path, tmp_path: Path) -> int:
    upload(clip, "videos/embed/harbour.mp4")
    upload(make_poster(clip, tmp_path / "poster.jpg"), "thumbnails/embed/harbour.jpg", "image/jpeg")
    rows = sql(
        """INSERT INTO videos (filename, thumbnail_key, title, duration, file_size, width, height, orientation,
                               quality, is_published)
           VALUES ('videos/embed/harbour.mp4', 'thumbnails/embed/harbour.jpg', 'Harbour at dawn', :d, :s,
                   640, 360, 'H', 'SD', true) RETURNING id""",
        d=SECONDS,
        s=clip.stat().st_size,
    )
    make_ready(int(rows[0][0]))  # its HLS ladder, which the embed page plays
    return int(rows[0][0])


@pytest.fixture
def blog(tmp_path: Path, api: LocalServer, video_id: int) -> Iterator[str]:
    root = tmp_path / "blog"
    root.mkdir()
    (root / "index.html").write_text(BLOG.format(api=api.base, id=video_id))
    with static_site(root) as origin:
        yield f"{origin}/index.html"


def live(api: LocalServer, video_id: int, token: str) -> int:
    answer = request(
        api.base, "GET", f"/api/videos/{video_id}/analytics/live", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200, answer.body
    return int(answer.body["concurrentViewers"])


def views(video_id: int) -> dict[str, dict[str, Any]]:
    """The video's views by the country their viewer was in (each viewer is in another)."""
    rows = sql(
        """SELECT country, device_type, browser, os, startup_time_ms, rebuffer_count, error_code, ended_at,
                  watch_time_seconds, completed, height, bitrate_kbps FROM video_views WHERE video_id = :v""",
        v=video_id,
    )
    return {row.country: dict(row._mapping) for row in rows}


def frame_of(page: Any) -> Any:
    return wait_for(
        page=page, probe=lambda: next((f for f in page.frames if "/api/embed/" in f.url), None), what="the embed frame"
    )


def test_viewers_play_the_embed_page_with_the_keyboard_and_are_counted_as_they_watched(
    browser_for_embeds: Any, api: LocalServer, blog: str, video_id: int
) -> None:
    token = token_for(make_user(role="SUPER_ADMIN"))
    errors = ConsoleErrors()
    pages: dict[str, Any] = {}
    logs: dict[str, TrackingLog] = {}
    for viewer in VIEWERS:
        context = browser_for_embeds.new_context(
            user_agent=viewer.user_agent,
            extra_http_headers={"CloudFront-Viewer-Country": viewer.country},  # what the edge adds
            viewport={"width": 800, "height": 500},
        )
        logs[viewer.name] = TrackingLog()
        page = errors.watch(logs[viewer.name].watch(context.new_page()))
        page.goto(blog)
        frame = frame_of(page)
        wait_for(page=page, probe=lambda frame=frame: frame.evaluate(LOADED), what="the video's metadata")
        frame.evaluate(MEASURE_EMBED)
        page.keyboard.press("Tab")  # the first thing to focus on the blog is the player in the frame
        assert frame.evaluate("document.activeElement.id") == "player"
        page.keyboard.press("Space")
        pages[viewer.name] = page
    for name, page in pages.items():
        wait_for(page=page, probe=lambda log=logs[name]: log.of("heartbeat"), what=f"{name}'s first heartbeat")
        wait_for(
            page=page,
            probe=lambda page=page: frame_of(page).evaluate("document.getElementById('player').currentTime") > 1,
            what=f"{name} playing",  # one press, one toggle: a second one would have paused it at once
        )
    pages["desktop"].screenshot(path=str(artifacts("embed") / "blog-desktop.png"))
    assert live(api, video_id, token) == 3

    # The tablet's viewer closes the tab: the live count drops within 5 s.
    closed_at = time.monotonic()
    pages["tablet"].close(run_before_unload=True)
    wait_for(lambda: live(api, video_id, token) == 2, timeout=5, every=0.25, what="the live count to drop")
    assert time.monotonic() - closed_at <= 5

    # The phone's viewer skips ahead with the arrow key (5 s); the desktop's watches to the end.
    phone = frame_of(pages["phone"])
    before = phone.evaluate("document.getElementById('player').currentTime")
    pages["phone"].keyboard.press("ArrowRight")
    wait_for(
        page=pages["phone"],
        probe=lambda: phone.evaluate("document.getElementById('player').currentTime") >= before + 4.5,
        what="the arrow-key seek",
    )
    desktop = frame_of(pages["desktop"])
    wait_for(
        page=pages["desktop"],
        probe=lambda: desktop.evaluate("document.getElementById('player').ended"),
        timeout=40,
        what="the end",
    )
    measured = {
        name: frame_of(page).evaluate("window.measured") for name, page in pages.items() if not page.is_closed()
    }
    for page in pages.values():
        if not page.is_closed():
            page.context.close()

    recorded = views(video_id)
    assert set(recorded) == {viewer.country for viewer in VIEWERS}  # one view each
    for viewer in VIEWERS:
        row = recorded[viewer.country]
        assert (row["device_type"], row["browser"], row["os"]) == (viewer.device, viewer.browser, viewer.os)
        assert row["error_code"] is None and row["rebuffer_count"] is not None  # stalls may happen on a busy machine
        assert row["height"] == 360 and row["bitrate_kbps"] > 0  # hls.js played the ladder's rung
        if viewer.name in measured:
            startup = measured[viewer.name]["playing"] - measured[viewer.name]["requested"]
            assert abs(row["startup_time_ms"] - startup) <= 100, (viewer.name, row, startup)
    assert recorded["DE"]["completed"] and recorded["DE"]["watch_time_seconds"] >= SECONDS - 1
    assert recorded["JP"]["ended_at"] is not None  # the closed tab
    assert [item["eventType"] for item in logs["phone"].of("event")][:2] == ["play", "seek"]
    assert errors == []


@pytest.fixture(scope="module")
def browser_for_embeds() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def test_the_embed_page_fills_its_frame_shows_its_poster_and_loads_only_the_apis_files(
    browser_for_embeds: Any, api: LocalServer, blog: str, video_id: int, moto_endpoint: str
) -> None:
    errors = ConsoleErrors()
    hosts: set[str] = set()
    page = errors.watch(browser_for_embeds.new_page(viewport={"width": 900, "height": 600}))
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    page.goto(blog)
    frame = frame_of(page)
    wait_for(page=page, probe=lambda: frame.evaluate(LOADED), what="the video's metadata")
    box = frame.evaluate(
        "(() => { const r = document.getElementById('player').getBoundingClientRect(); return [r.width, r.height]; })()"
    )
    assert box == [640, 360]  # the whole frame
    poster = frame.evaluate("document.getElementById('player').poster")
    assert poster.startswith(moto_endpoint) and "thumbnails/embed/harbour.jpg" in poster
    oembed = frame.evaluate("document.querySelector('link[type=\"application/json+oembed\"]').href")
    assert oembed == f"{api.base}/api/oembed?url={api.base}/api/embed/{video_id}&format=json"
    assert frame.evaluate("document.fullscreenEnabled")  # the iframe allows it
    page.screenshot(path=str(artifacts("embed") / "poster.png"))
    api_host, media_host, blog_host = api.base.split("/")[2], moto_endpoint.split("/")[2], blog.split("/")[2]
    assert hosts <= {api_host, media_host, blog_host}, hosts
    page.close()
    assert errors == []


def test_a_video_whose_ladder_is_being_made_says_so_and_is_no_error(
    browser_for_embeds: Any, api: LocalServer, media_bucket: str, clip: Path
) -> None:
    upload(clip, "videos/embed/new.mp4")
    waiting = sql(
        """INSERT INTO videos (filename, title, duration, file_size, width, height, orientation, quality, is_published)
           VALUES ('videos/embed/new.mp4', 'Just uploaded', :d, 1, 640, 360, 'H', 'SD', true) RETURNING id""",
        d=SECONDS,
    )[0][0]
    errors, log = ConsoleErrors(), TrackingLog()
    page = errors.watch(log.watch(browser_for_embeds.new_page()))
    page.goto(f"{api.base}/api/embed/{waiting}")
    page.wait_for_selector("#state:not([hidden])")
    assert "being prepared" in page.inner_text("#state")
    assert page.evaluate("document.getElementById('player').getAttribute('src')") is None  # nothing to play yet
    page.close()
    assert errors == [] and log.requests == []  # not an error, and no view before anything could play
