"""Consent, the rights of the person, answers without figures and visitor keys, over real HTTP: the local
server `make dev` runs, plain HTTP clients, and headless Chromium for browsers behind one address."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.analytics import refresh
from tests.support.api import token_for, video_payload
from tests.support.browser import chromium, static_site
from tests.support.database import make_user, sql
from tests.support.env import BASE_ENV
from tests.support.http import request
from tests.support.local_server import LocalServer, local_server

FIGURES = {"uniqueViewers", "totalWatchTimeSeconds", "averageWatchTimeSeconds", "completionRate"}
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "index.html").write_text('<!doctype html><link rel="icon" href="data:,"><title>frontend</title>')
    with static_site(tmp_path) as origin:
        yield origin


@pytest.fixture
def api(database_url: str, site: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url, "CORS_ALLOWED_ORIGINS": site}
    with local_server(env, log=tmp_path / "server.log", own_url=True) as server:
        yield server


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(make_user(role='SUPER_ADMIN'))}"}


@pytest.fixture
def video(api: LocalServer, admin: dict[str, str]) -> int:
    created = request(api.base, "POST", "/api/videos", video_payload(duration=100), headers=admin)
    assert created.status == 201, created.body
    published = request(api.base, "PATCH", f"/api/videos/{created.body['id']}", {"isPublished": True}, headers=admin)
    assert published.status == 200
    return int(created.body["id"])


def view(api: LocalServer, video: int, user: int | None = None, **fields: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token_for(user, 'USER')}"} if user else {}
    headers.update(fields.pop("headers", {}))
    answer = request(api.base, "POST", "/api/track/view", {"videoId": video, **fields}, headers=headers)
    assert answer.status == 200, answer.body
    return dict(answer.body)


def test_a_user_id_is_stored_only_with_consent_and_never_with_gpc(api: LocalServer, video: int) -> None:
    ana = make_user(role="USER")
    view(api, video, ana)  # a token without consent
    view(api, video, ana, consent=True)
    view(api, video, ana, consent=True, headers={"Sec-GPC": "1"})  # Global Privacy Control wins
    stored = sql("SELECT user_id, consented FROM video_views ORDER BY id")
    assert [tuple(row) for row in stored] == [(None, False), (ana, True), (None, False)]


def test_a_person_exports_then_erases_their_data_and_nothing_is_left(
    api: LocalServer, video: int, admin: dict[str, str]
) -> None:
    ana, ben = make_user(role="USER"), make_user(role="USER")
    for user in (ana, ana, ben):
        ids = view(api, video, user, consent=True)
        beat = {"viewId": ids["viewId"], "viewToken": ids["viewToken"], "watchTimeSeconds": 6}
        assert request(api.base, "POST", "/api/track/heartbeat", beat).status == 200
    view(api, video)  # an anonymous viewer
    refresh()
    mine = {"Authorization": f"Bearer {token_for(ana, 'USER')}"}
    exported = request(api.base, "GET", f"/api/analytics/viewers/{ana}", headers=mine)
    assert exported.status == 200 and len(exported.body["views"]) == 2
    assert (
        request(api.base, "DELETE", f"/api/analytics/viewers/{ana}", headers={"Authorization": "Bearer x"}).status
        == 401
    )
    erased = request(api.base, "DELETE", f"/api/analytics/viewers/{ana}", headers=mine)
    assert erased.status == 200 and erased.body["viewsDeleted"] == 2
    assert request(api.base, "GET", f"/api/analytics/viewers/{ana}", headers=mine).body["views"] == []
    figures = request(api.base, "GET", f"/api/videos/{video}/analytics?startDate=2020-01-01", headers=admin).body
    [(views, viewers, watch)] = sql(
        """SELECT count(*), count(DISTINCT COALESCE('u:' || user_id, 'i:' || ip_address, 'v:' || id)),
                  sum(watch_time_seconds) FROM video_views"""
    )
    assert (figures["totalViews"], figures["uniqueViewers"], figures["totalWatchTimeSeconds"]) == (
        views,
        viewers,
        watch,
    )
    assert (views, viewers, watch) == (2, 2, 6)


def test_an_anonymous_get_of_a_video_shows_no_figures(api: LocalServer, video: int, admin: dict[str, str]) -> None:
    for headers in ({}, {"Authorization": f"Bearer {token_for(make_user(role='USER'), 'USER')}"}):
        single = request(api.base, "GET", f"/api/videos/{video}", headers=headers)
        listing = request(api.base, "GET", "/api/videos", headers=headers)
        assert single.status == listing.status == 200
        assert not FIGURES & (set(single.body) | set(listing.body["videos"][0]))
    assert set(request(api.base, "GET", f"/api/videos/{video}", headers=admin).body) >= FIGURES


def test_three_browsers_behind_one_address_are_three_viewers(
    api: LocalServer, site: str, video: int, admin: dict[str, str]
) -> None:
    with chromium() as browser:
        for number, agent in enumerate((*AGENTS, AGENTS[0])):
            context = browser.new_context(user_agent=agent)
            page = context.new_page()
            page.goto(f"{site}/index.html")
            status = page.evaluate(
                """async ({api, videoId}) => (await fetch(api + "/api/track/view", {method: "POST",
                    headers: {"Content-Type": "application/json"}, body: JSON.stringify({videoId})})).status""",
                {"api": api.base, "videoId": video},
            )
            assert status == 200, number
            context.close()
    keys = [row[0] for row in sql("SELECT ip_address FROM video_views ORDER BY id")]
    assert len(set(keys)) == 3 and keys[3] == keys[0]  # all from 127.0.0.1; the fourth is the first browser again
    for fold in (False, True):
        if fold:
            refresh()
        figures = request(api.base, "GET", f"/api/videos/{video}/analytics", headers=admin).body
        assert (figures["totalViews"], figures["uniqueViewers"]) == (4, 3)


def test_a_view_counted_in_a_report_is_in_the_list_top_and_overview_at_once(
    api: LocalServer, video: int, admin: dict[str, str]
) -> None:
    """One set of figures: no refresh runs, and every answer already counts the views (viewers included)."""
    first = view(api, video, headers={"User-Agent": AGENTS[0]})
    view(api, video, headers={"User-Agent": AGENTS[1]})
    view(api, video, headers={"User-Agent": AGENTS[0]})
    beat = {"viewId": first["viewId"], "viewToken": first["viewToken"], "watchTimeSeconds": 9}
    assert request(api.base, "POST", "/api/track/heartbeat", beat).status == 200
    assert sql("SELECT count(*) FROM analytics_totals") == [(0,)]

    def get(path: str) -> Any:
        answer = request(api.base, "GET", path, headers=admin)
        assert answer.status == 200, answer.body
        return answer.body

    reported = get(f"/api/videos/{video}/analytics")
    assert (reported["totalViews"], reported["uniqueViewers"], reported["totalWatchTimeSeconds"]) == (3, 2, 9)
    [listed] = get("/api/videos")["videos"]
    single = get(f"/api/videos/{video}")
    for answer in (listed, single):
        assert (answer["uniqueViewers"], answer["totalWatchTimeSeconds"], answer["averageWatchTimeSeconds"]) == (
            2,
            9,
            3.0,
        )
    [top] = get("/api/videos/analytics/top")["videos"]
    assert (top["id"], top["views"], top["uniqueViewers"], top["watchTimeSeconds"]) == (video, 3, 2, 9)
    overview = get("/api/videos/analytics/overview")
    assert (overview["totalViews"], overview["uniqueViewers"], overview["totalWatchTimeSeconds"]) == (3, 2, 9)
