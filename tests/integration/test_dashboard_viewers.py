"""From browsers to the dashboard: viewers in headless Chromium, each a context with its own
User-Agent and ``CloudFront-Viewer-Country`` (what the edge adds), play a real clip through the
embed page and through a page that uses only the SDK (on a network that stalls once), and one meets
a broken source. An analyst's dashboard, open all the while, shows them live, then their breakdowns
by country, device, browser, OS and referrer host and their quality of experience: every table and
figure equal to the API's answer for the same range, zone and metric, the SDK viewer's startup time
as its page measured it and its stall as rebuffering. Screenshots are kept in the test's tmp dir."""

from __future__ import annotations

import csv
import functools
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import token_for
from tests.support.browser import ConsoleErrors, chromium, serve
from tests.support.database import make_user, sql
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, http_json, local_server
from tests.support.media import upload
from tests.support.player import (
    SDK_PAGE,
    STALL_WATCH,
    Stall,
    TrackingLog,
    make_clip,
    make_ready,
    site_handler,
    wait_for,
)

SECONDS = 60  # three viewers are all still watching when the last starts, however busy the machine
ANALYST_ZONE = "Asia/Tokyo"  # not the server's: every report is asked in the page's zone
DIMENSIONS = ("country", "device", "browser", "os", "referrerHost")
METRICS = (
    "views",
    "uniqueViewers",
    "watchTime",
    "completionRate",
    "startupTimeP50Ms",
    "rebufferRatio",
    "playbackFailureRate",
)
BROKEN = b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500


@dataclass(frozen=True)
class Viewer:
    country: str
    user_agent: str
    page: str  # "embed": /api/embed/{id}; "sdk": another origin's page with the SDK only; "broken": no video


VIEWERS = (
    Viewer("DE", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/126.0.0.0 Safari/537.36", "embed"),
    Viewer("FR", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1", "embed"),
    Viewer("JP", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/126.0.0.0 Mobile Safari/537.36", "sdk"),
)  # fmt: skip
BROKEN_VIEWER = Viewer(
    "US", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "broken"
)
EXPECTED = {  # views per value, as the parser reads the User-Agents above
    "country": {"DE": 1, "FR": 1, "JP": 1, "US": 1},
    "device": {"desktop": 2, "mobile": 2},
    "browser": {"Chrome": 1, "Mobile Safari": 1, "Chrome Mobile": 1, "Firefox": 1},
    "os": {"Linux": 1, "iOS": 1, "Android": 1, "Windows": 1},
}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=SECONDS)


@pytest.fixture
def stall(clip: Path) -> Stall:
    """The SDK page's clip stops a tenth of the way in (about 6 s) until the test releases it."""
    return Stall("clip.mp4", clip.stat().st_size // 10)


@pytest.fixture
def site(tmp_path: Path, clip: Path, stall: Stall) -> Iterator[tuple[Path, str]]:
    """Another origin: a page with only the SDK, the clip as MP4 (on a network that stalls once) and a
    file that is not a video."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "clip.mp4").write_bytes(clip.read_bytes())
    (root / "broken.mp4").write_bytes(BROKEN)
    with serve(site_handler(root, stall)) as origin:
        yield root, origin


@pytest.fixture
def api(
    site: tuple[Path, str], media_bucket: str, moto_endpoint: str, database_url: str, tmp_path: Path
) -> Iterator[LocalServer]:
    env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "CORS_ALLOWED_ORIGINS": site[1],  # the SDK's page; the embed page posts from the API's own origin
    }
    with local_server(env, log=tmp_path / "server.log", own_url=True) as server:
        yield server


@pytest.fixture
def video_id(media_bucket: str, clip: Path) -> int:
    upload(clip, "videos/dash/harbour.mp4")
    rows = sql(
        """INSERT INTO videos (filename, title, duration, file_size, width, height, orientation, quality, is_published)
           VALUES ('videos/dash/harbour.mp4', 'Harbour at dawn', :d, :s, 640, 360, 'H', 'SD', true) RETURNING id""",
        d=SECONDS,
        s=clip.stat().st_size,
    )
    make_ready(int(rows[0][0]))  # its HLS ladder, which the embed page plays
    return int(rows[0][0])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_what_viewers_did_in_browsers_is_what_the_dashboard_shows(
    browser: Any, api: LocalServer, site: tuple[Path, str], stall: Stall, video_id: int, tmp_path: Path
) -> None:
    token = token_for(make_user(role="SUPER_ADMIN"))
    errors = ConsoleErrors()
    board = errors.watch(browser.new_page(viewport={"width": 1280, "height": 1000}, timezone_id=ANALYST_ZONE))
    board.goto(f"{api}/api/dashboard#token={token}")
    board.wait_for_selector("#live-total:text('0 now')", timeout=20_000)

    players = [play(browser, viewer, api, site, video_id, errors) for viewer in VIEWERS]
    sdk_page = players[-1]
    wait_for(page=sdk_page, probe=lambda: sdk_page.evaluate("window.waitingSince"), what="the stall")
    sdk_page.wait_for_timeout(1500)
    stall.release()
    wait_for(page=sdk_page, probe=lambda: sdk_page.evaluate("window.stalls.length"), what="playing again")
    measured = sdk_page.evaluate("window.measured")
    board.wait_for_selector("#live-total:text('3 now')", timeout=20_000)  # the next poll, within 5 s
    board.wait_for_selector("#live tbody a:text('Harbour at dawn')")
    assert board.inner_text("#live tbody").split("\t")[-1].strip() == "3"
    board.screenshot(path=str(tmp_path / "three-watching.png"), full_page=True)
    for player in players:
        leave(player)
    board.wait_for_selector("#live-total:text('0 now')", timeout=20_000)

    failed = play(browser, BROKEN_VIEWER, api, site, video_id, None)
    leave(failed)

    board.click(".presets button[data-days='30']")  # ask again now rather than at the next 30 s poll
    by_country: dict[str, dict[str, str]] = {}
    for metric in METRICS:
        board.select_option("#breakdown-metric", metric)
        for by in DIMENSIONS:
            rows = wait_for(
                page=board,
                probe=functools.partial(same_rows, board, api, token, by, metric),
                what=f"the {by} table in {metric} as the API answers it",
            )
            if metric == "views" and by in EXPECTED:
                assert {value: int(figure) for value, figure in rows} == EXPECTED[by]
            if by == "country":
                by_country[metric] = dict(rows)
    # The SDK page's viewer: its startup time as the page measured it (within the histogram's error)
    # and its stall as rebuffering.
    startup = measured["playing"] - measured["requested"]
    assert abs(float(by_country["startupTimeP50Ms"]["JP"]) - startup) <= max(100, startup / 10), (by_country, startup)
    assert float(by_country["rebufferRatio"]["JP"]) > 0
    board.select_option("#breakdown-metric", "views")
    wait_for(page=board, probe=lambda: same_rows(board, api, token, "country", "views"), what="the views again")
    assert "DE · Germany" in board.inner_text("#by-country")
    assert_exports_country_table(board, api, token)
    assert_qoe_is_the_apis(board, api, token, video_id)
    board.screenshot(path=str(tmp_path / "breakdowns.png"), full_page=True)

    board.select_option("#breakdown-scope", "video")  # the open video's own breakdowns
    for by in DIMENSIONS:
        probe = functools.partial(same_rows, board, api, token, by, "views", f"videos/{video_id}")
        wait_for(page=board, probe=probe, what=f"the video's {by} table as the API answers it")
    assert errors == []


def play(browser: Any, viewer: Viewer, api: LocalServer, site: tuple[Path, str], video_id: int, errors: Any) -> Any:
    """A viewer's tab, playing (or failing to) until its first heartbeat has been sent."""
    country = {"CloudFront-Viewer-Country": viewer.country}  # what the edge adds to the requests it passes on
    same_origin = viewer.page == "embed"  # the embed page posts to its own origin; the SDK's page to another
    context = browser.new_context(
        user_agent=viewer.user_agent,
        extra_http_headers=country if same_origin else None,
        viewport={"width": 800, "height": 500},
    )
    if not same_origin:  # a header the page itself sent would need CORS preflight approval; the edge's does not
        context.route(
            f"{api}/api/track/**", lambda route: route.continue_(headers={**route.request.headers, **country})
        )
    log = TrackingLog()
    page = log.watch(context.new_page())
    if errors is not None:
        errors.watch(page)
    if viewer.page == "embed":
        page.goto(f"{api}/api/embed/{video_id}")
        wait_for(page=page, probe=lambda: page.evaluate("document.getElementById('player').readyState >= 1"),
                 what="the embedded video's metadata")  # fmt: skip
        page.focus("#player")
        page.keyboard.press("Space")
        element = "player"
    else:
        media = "broken.mp4" if viewer.page == "broken" else "clip.mp4"
        (site[0] / f"{viewer.country}.html").write_text(SDK_PAGE.format(api=api.base, id=video_id, media=media))
        page.goto(f"{site[1]}/{viewer.country}.html")
        if viewer.page == "sdk":
            wait_for(page=page, probe=lambda: page.evaluate("document.getElementById('video').readyState >= 3"),
                     what="the clip")  # fmt: skip
            page.evaluate(STALL_WATCH)  # the page's own measurement of its stalls
            page.evaluate("window.watch()")
        element = "video"
    wait_for(page=page, probe=lambda: log.of("heartbeat"), what=f"{viewer.country}'s first heartbeat")
    if viewer.page != "broken":
        playing = f"document.getElementById('{element}').currentTime > 1"
        wait_for(page=page, probe=lambda: page.evaluate(playing), what=f"{viewer.country} playing")
    return page


def leave(page: Any) -> None:
    """Close the viewer's tab: pagehide sends the beacon that ends its view. The edge's header is no
    longer added first: a request held by a route when its page closes is dropped, and the country
    was taken when the view was made."""
    page.context.unroute_all(behavior="wait")
    page.close(run_before_unload=True)
    page.context.close()


def api_get(api: LocalServer, token: str, path: str) -> Any:
    status, body = http_json(f"{api}/api/{path}", token=token)
    assert status == 200, body
    return body


def shown_rows(page: Any, table: str) -> list[list[str]]:
    """A table's body as its raw values (what the CSV export holds), row by row."""
    rows = f"document.querySelectorAll('#{table} tbody tr:not(:has(td.empty))')"  # "nothing" is no row
    found: list[list[str]] = page.evaluate(f"Array.from({rows}, (tr) => Array.from(tr.cells, (td) => td.dataset.raw))")
    return found


def same_rows(
    page: Any, api: LocalServer, token: str, by: str, metric: str, scope: str = "videos"
) -> list[list[str]] | None:
    """The table's rows when they are the API's answer for the page's range, zone and metric, else None."""
    query = f"by={by}&metric={metric}&startDate={page.input_value('#start')}&endDate={page.input_value('#end')}"
    answer = api_get(api, token, f"{scope}/analytics/breakdown?{query}&tz={page.input_value('#tz')}")
    shown = shown_rows(page, f"by-{by}")
    expected = [[row["value"] or "", row[metric]] for row in answer["rows"]]  # null: not known
    return shown if shown and [[v, number(f)] for v, f in shown] == [[v, number(f)] for v, f in expected] else None


def number(figure: Any) -> float | None:
    return None if figure in (None, "") else float(figure)


def assert_exports_country_table(page: Any, api: LocalServer, token: str) -> None:
    with page.expect_download() as download:
        page.click("#by-country caption button")
    assert download.value.suggested_filename.startswith("country-views-")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["Country", "Views"]
    assert rows[1:] == shown_rows(page, "by-country")


def assert_qoe_is_the_apis(page: Any, api: LocalServer, token: str, video_id: int) -> None:
    """The library's and the open video's quality of experience, figure by figure."""
    zone = page.input_value("#tz")
    range_query = f"startDate={page.input_value('#start')}&endDate={page.input_value('#end')}&tz={zone}"
    library = api_get(api, token, f"videos/analytics/overview?tz={zone}")["qoe"]
    video = api_get(api, token, f"videos/{video_id}/analytics?{range_query}")["qoe"]
    for panel, qoe in (("library-qoe", library), ("video-qoe", video)):
        boxes = f"document.querySelectorAll('#{panel} > div')"
        shown = page.evaluate(f"Object.fromEntries(Array.from({boxes}, (b) => [b.dataset.key, b.dataset.raw]))")
        assert {key: number(value) for key, value in shown.items()} == {key: number(qoe[key]) for key in shown}
    assert library["plays"] == 4 and library["playbackFailureRate"] == 0.25  # the broken source
    assert library["startupTimeP50Ms"] is not None
