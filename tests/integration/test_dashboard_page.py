"""The analysts' dashboard in a real browser: headless Chromium opens ``/api/dashboard`` on the
local server, signs in with an admin token (in the URL fragment, then by pasting one) and must show
the library, a video's title and its charts in readable units, draw retention from 0 % and one day as
one day, export a table as CSV, refresh its figures while open and follow the team toggle and the
time zone, with no console errors and nothing loaded from another host. Screenshots are kept beside
the test's temporary files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.analytics import add_event, add_view, refresh
from tests.support.api import token_for
from tests.support.browser import ConsoleErrors, chromium
from tests.support.database import make_user, sql
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, local_server
from tests.support.player import wait_for

TITLE = "Harbour at dawn"


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url}
    with local_server(env, log=tmp_path / "server.log") as server:
        yield server


@pytest.fixture
def library() -> int:
    video_id = sql(
        """INSERT INTO videos (filename, title, duration, file_size, width, height, orientation, quality, is_published)
           VALUES ('dash/harbour.mp4', :t, 120, 1, 1280, 720, 'H', 'HD', true) RETURNING id""",
        t=TITLE,
    )[0][0]
    now = datetime.now(UTC)
    for day in range(5):
        for viewer in range(day + 1):
            view = add_view(video_id, watch=60, ip=f"{viewer:064d}", referer="https://news.example/harbour",
                            at=now - timedelta(days=day, hours=1))  # fmt: skip
            add_event(video_id, "play", view_id=view, at=now - timedelta(days=day, hours=1))
    add_view(video_id, watch=30, ip="e" * 64, at=now - timedelta(hours=1), team=True)  # an admin's own view
    refresh()
    return int(video_id)


def test_the_dashboard_signs_in_and_shows_the_library_and_a_video(
    served: LocalServer, library: int, tmp_path: Path
) -> None:
    token = token_for(make_user(role="SUPER_ADMIN"))
    errors = ConsoleErrors()
    other_hosts: list[str] = []
    with chromium() as browser:
        page = errors.watch(browser.new_page(viewport={"width": 1280, "height": 1000}, timezone_id="UTC"))
        page.on("request", lambda r: other_hosts.append(r.url) if not r.url.startswith(served.base) else None)
        page.clock.install()  # time flows, and the test can skip to the next poll
        page.goto(f"{served}/api/dashboard#token={token}")
        page.wait_for_selector(f"#top tbody a:text('{TITLE}')", timeout=20_000)
        page.wait_for_selector("#video-title:text('" + TITLE + "')", timeout=20_000)
        assert page.locator("#library-chart canvas").count() == 1
        assert page.locator("#video-chart canvas").count() == 1
        assert page.locator("#retention-chart canvas").count() == 1
        totals = page.inner_text("#totals")
        assert "15\nviews" in totals  # 1 + 2 + 3 + 4 + 5 views
        assert "15 min\nwatch time" in totals and "1 min\naverage watch time" in totals  # not "0.3 h"
        assert page.inner_text("#referrers tbody").startswith("https://news.example/harbour")
        assert "token" not in page.url  # the fragment is dropped once read
        assert page.inner_text("#as-of").endswith(" UTC")  # the browser's zone, named
        page.wait_for_selector("#live-total:text('now')")
        page.wait_for_selector("#video-live:text('0')")
        assert scale(page, "retention-chart", "y") == [0, 100]  # from 0 %, not from the smallest share
        assert scale(page, "retention-chart", "x") == [0, 100]
        assert page.evaluate("dashboardCharts['retention-chart'].axes[0].label") == "position in the video (%)"
        # The library's busiest minute of each of the last 24 hours: the view an hour ago is one.
        assert page.evaluate("Math.max(...dashboardCharts['library-concurrent-chart'].data[1])") == 1
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        draws_one_day_as_one_day(page, tmp_path)
        exports_a_table_as_csv(page)
        refreshes_while_open(page, library)
        follows_the_team_toggle_and_the_zone(page, tmp_path)

        # A new tab knows no token: it asks for one, and a pasted one works the same.
        fresh = errors.watch(browser.new_page())
        fresh.goto(f"{served}/api/dashboard")
        fresh.wait_for_selector("#sign-in:not([hidden])")
        fresh.fill("#token", token)
        fresh.click("#sign-in button")
        fresh.wait_for_selector(f"#top tbody a:text('{TITLE}')", timeout=20_000)
        fresh.click("#sign-out")  # perhaps while the video's figures are still loading: they stop
        fresh.wait_for_selector("#sign-in:not([hidden])")
        assert fresh.evaluate("window.sessionStorage.length") == 0
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    assert errors == []
    assert other_hosts == []  # scripts, styles and data all come from the API itself


def draws_one_day_as_one_day(page: Any, tmp_path: Path) -> None:
    """Not years of axis around a single point."""
    page.click(".presets button[data-days='1']")
    one_day = "dashboardCharts['video-chart'].data[0].length === 1"  # polled: the page's policy forbids eval
    wait_for(page=page, probe=lambda: page.evaluate(one_day), what="a one-day chart")
    low, high = scale(page, "video-chart", "x")
    assert high - low == 86_400
    page.screenshot(path=str(tmp_path / "one-day.png"), full_page=True)


def exports_a_table_as_csv(page: Any) -> None:
    """Any table leaves as CSV, with raw figures (seconds, not "15 min")."""
    with page.expect_download() as download:
        page.click("#top caption button")
    exported = Path(download.value.path()).read_text()
    assert download.value.suggested_filename.startswith("top-videos-")
    assert exported.splitlines() == ["Video,Views,Viewers,Watch time,Completion", f"{TITLE},15,5,900,0"]


def refreshes_while_open(page: Any, video_id: int) -> None:
    """A new view shows after the next poll, with no reload."""
    add_view(video_id, watch=113, ip="f" * 64, at=datetime.now(UTC))
    refresh()
    page.clock.fast_forward(31_000)
    page.wait_for_selector("#totals strong:text-is('16')", timeout=20_000)
    assert "16 min 53 s\nwatch time" in page.inner_text("#totals")  # 900 s + 113 s


def follows_the_team_toggle_and_the_zone(page: Any, tmp_path: Path) -> None:
    """Team views are left out until asked for; the zone picked is the one every report is asked in."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/analytics" in r.url else None)
    page.check("#team")
    page.wait_for_selector("#totals strong:text-is('17')", timeout=20_000)  # 16 and the admin's
    assert any("includeTeam=true" in url for url in asked)
    page.screenshot(path=str(tmp_path / "with-team.png"), full_page=True)
    page.select_option("#tz", "Pacific/Kiritimati")
    page.wait_for_selector("#as-of:text('Pacific/Kiritimati')", timeout=20_000)
    assert any("tz=Pacific%2FKiritimati" in url and "/overview" in url for url in asked)
    page.wait_for_selector("#video-range:text('Pacific/Kiritimati · team views included')", timeout=20_000)


def scale(page: Any, chart: str, axis: str) -> list[float]:
    """A chart's drawn range on one axis (uPlot's scale), as [min, max]."""
    found: list[float] = page.evaluate(f"['min', 'max'].map((end) => dashboardCharts['{chart}'].scales.{axis}[end])")
    return found


def test_a_token_without_an_admin_role_is_sent_back_to_sign_in(served: LocalServer) -> None:
    token = token_for(make_user(role="USER"), "USER")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{served}/api/dashboard#token={token}")
        page.wait_for_selector("#sign-in:not([hidden])")
        assert "admin" in page.inner_text("#problem").lower()
