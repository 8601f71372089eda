"""CORS as a real browser enforces it: headless Chromium on a page served from another origin
calls the local server `make dev` runs.

From a listed origin a JSON ``fetch`` (preflighted), an admin ``fetch`` with a bearer token,
``sendBeacon`` with a string (``text/plain``, no preflight) and with a JSON Blob (preflighted
in credentials mode) all reach the service, and a 429's ``Retry-After`` is readable. From
an unlisted origin the browser refuses the preflight, so the write never happens.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.api import token_for
from tests.support.browser import ConsoleErrors, chromium, static_site
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, local_server


def rows(statement: str) -> list[Any]:
    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        return list(connection.execute(text(statement)).all())


def eventually(statement: str, expected: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while rows(statement) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows(statement) == expected


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two sites serving a blank page: one whose origin the API lists, one it does not."""
    page = '<!doctype html><link rel="icon" href="data:,"><title>frontend</title><h1>frontend</h1>'
    (tmp_path / "index.html").write_text(page)
    with static_site(tmp_path, "127.0.0.1") as listed, static_site(tmp_path, "localhost") as unlisted:
        yield listed, unlisted


@pytest.fixture
def api(pages: tuple[str, str], database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    listed, _ = pages
    env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": database_url,
        "CORS_ALLOWED_ORIGINS": f"{listed},https://other.test",
    }
    with local_server(env, log=tmp_path / "server.log") as server:
        yield server


def test_a_listed_origin_can_fetch_beacon_and_read_retry_after(
    api: LocalServer, pages: tuple[str, str], create_video: Any, admin_id: int
) -> None:
    listed, _ = pages
    video = create_video(published=True, duration=600)
    hidden = create_video(published=False)
    errors = ConsoleErrors()
    with chromium() as browser:
        page = errors.watch(browser.new_page())
        page.goto(f"{listed}/index.html")
        result = page.evaluate(
            """async ({api, videoId, token}) => {
                const post = (path, body) => fetch(api + path, {
                    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
                const view = await (await post("/api/track/view", {videoId})).json();
                const textBeacon = navigator.sendBeacon(api + "/api/track/heartbeat",
                    JSON.stringify({viewId: view.viewId, viewToken: view.viewToken, watchTimeSeconds: 3}));
                const blob = new Blob([JSON.stringify({videoId, viewId: view.viewId, viewToken: view.viewToken,
                    eventType: "pause", timestamp: 3})], {type: "application/json"});
                const jsonBeacon = navigator.sendBeacon(api + "/api/track/event", blob);
                const admin = await fetch(api + "/api/videos?published=false",
                    {headers: {Authorization: "Bearer " + token}});
                return {view, textBeacon, jsonBeacon, adminStatus: admin.status, adminBody: await admin.json()};
            }""",
            {"api": api.base, "videoId": video["id"], "token": token_for(admin_id)},
        )
        assert result["view"]["viewId"] > 0
        assert result["textBeacon"] is True and result["jsonBeacon"] is True
        assert result["adminStatus"] == 200
        assert [v["id"] for v in result["adminBody"]["videos"]] == [hidden["id"]]
        view_id = result["view"]["viewId"]
        eventually("SELECT watch_time_seconds FROM video_views", [(3,)])
        eventually("SELECT event_type, view_id FROM video_events", [("pause", view_id)])

        limited = page.evaluate(
            """async ({api, videoId}) => {
                for (let i = 0; i < 150; i++) {
                    const r = await fetch(api + "/api/track/view", {method: "POST",
                        headers: {"Content-Type": "application/json"}, body: JSON.stringify({videoId})});
                    if (r.status === 429) return {status: r.status, retryAfter: r.headers.get("Retry-After")};
                }
                return {status: 0};
            }""",
            {"api": api.base, "videoId": video["id"]},
        )
    assert limited["status"] == 429 and int(limited["retryAfter"]) >= 1
    assert [e for e in errors if "429" not in e] == []  # the browser logs the 429s themselves


def test_an_unlisted_origin_is_refused_by_the_browser_and_writes_nothing(
    api: LocalServer, pages: tuple[str, str], create_video: Any
) -> None:
    _, unlisted = pages
    video = create_video(published=True)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{unlisted}/index.html")
        outcome = page.evaluate(
            """async ({api, videoId}) => {
                try {
                    await fetch(api + "/api/track/view", {method: "POST",
                        headers: {"Content-Type": "application/json"}, body: JSON.stringify({videoId})});
                    return "allowed";
                } catch (error) { return error.name; }
            }""",
            {"api": api.base, "videoId": video["id"]},
        )
        read = page.evaluate(
            """async ({api}) => { try { await fetch(api + "/api/health"); return "read"; }
                                  catch (error) { return error.name; } }""",
            {"api": api.base},
        )
    assert outcome == "TypeError"  # the preflight found no Access-Control-Allow-Origin
    assert read == "TypeError"  # nor may it read a simple GET's answer
    assert rows("SELECT count(*) FROM video_views") == [(0,)]


def test_beacons_and_no_cors_requests_from_an_unlisted_origin_are_refused_and_store_nothing(
    api: LocalServer, pages: tuple[str, str], create_video: Any
) -> None:
    """CORS only hides answers: a beacon or a no-cors fetch still arrives, and the API refuses it itself."""
    from app import app
    from scripts.apigw import invoke, proxy_event

    _, unlisted = pages
    video = create_video(published=True, duration=600)
    _, _, view = invoke(app, proxy_event("POST", "/api/track/view", body={"videoId": video["id"]}))
    refused: list[tuple[str, int]] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on(
            "response",
            lambda response: refused.append((response.url, response.status)) if "/api/track/" in response.url else None,
        )
        page.goto(f"{unlisted}/index.html")
        sent = page.evaluate(
            """async ({api, videoId, viewId, viewToken}) => {
                const beat = JSON.stringify({viewId, viewToken, watchTimeSeconds: 30});
                const event = JSON.stringify({videoId, viewId, viewToken, eventType: "complete", timestamp: 30});
                const batch = JSON.stringify({events: [{kind: "heartbeat", viewId, viewToken, watchTimeSeconds: 40}]});
                const beacons = [
                    navigator.sendBeacon(api + "/api/track/view", JSON.stringify({videoId})),
                    navigator.sendBeacon(api + "/api/track/heartbeat", beat),
                    navigator.sendBeacon(api + "/api/track/event", event),
                    navigator.sendBeacon(api + "/api/track/batch", batch),
                ];
                const opaque = [];
                for (const [path, body] of [["view", JSON.stringify({videoId})], ["heartbeat", beat],
                                            ["event", event], ["batch", batch]]) {
                    const answer = await fetch(api + "/api/track/" + path, {method: "POST", mode: "no-cors", body});
                    opaque.push(answer.type);
                }
                return {beacons, opaque};
            }""",
            {"api": api.base, "videoId": video["id"], "viewId": view["viewId"], "viewToken": view["viewToken"]},
        )
        deadline = time.monotonic() + 30
        while len(refused) < 8 and time.monotonic() < deadline:
            page.wait_for_timeout(100)
    assert sent == {"beacons": [True] * 4, "opaque": ["opaque"] * 4}
    assert sorted(status for _, status in refused) == [403] * 8, refused
    # Only the app view made above exists, untouched: no view, event, watch time or completion from the page.
    assert rows("SELECT count(*), max(watch_time_seconds), bool_or(completed) FROM video_views") == [(1, 0, False)]
    assert rows("SELECT count(*) FROM video_events") == [(0,)]
