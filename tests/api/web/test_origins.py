"""Tracking writes are bound to the allowed origins: a page elsewhere is refused 403 with nothing stored
(the rate limit not counted either); a request naming no page is an app view unless the setting refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from scripts.apigw import invoke, proxy_event

LISTED = "https://www.example.test"
OTHER = "https://evil.example.test"


@pytest.fixture(autouse=True)
def listed(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{LISTED}/,http://localhost:5173")
    get_settings.cache_clear()


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


def track(app: Any, route: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, answer = invoke(app, proxy_event("POST", f"/api/track/{route}", body=body, headers=headers))
    return status, answer


def counts() -> tuple[int, int, int, int]:
    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        row = connection.execute(
            text(
                """SELECT (SELECT count(*) FROM video_views), (SELECT count(*) FROM video_events),
                          (SELECT COALESCE(max(watch_time_seconds), 0) FROM video_views),
                          (SELECT COALESCE(sum(hits), 0) FROM rate_limit_counters)"""
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": OTHER},
        {"origin": "null"},
        {"origin": "https://www.example.test.evil.test"},
        {"origin": "http://www.example.test"},  # another scheme is another site
        {"origin": "https://www.example.test:8443"},
        {"referer": f"{OTHER}/page?x=1"},
        {"referer": "android-app://com.example/"},
        {"origin": OTHER, "referer": f"{LISTED}/watch"},  # Origin, when sent, is what counts
    ],
)
def test_a_page_outside_the_allowed_origins_is_refused_and_nothing_is_stored(
    lambda_app: Any, video: dict[str, Any], headers: dict[str, str]
) -> None:
    _, view = track(lambda_app, "view", {"videoId": video["id"]})  # an app view to aim at
    before = counts()
    ids = {"viewId": view["viewId"], "viewToken": view["viewToken"]}
    beat = {**ids, "watchTimeSeconds": 20}
    bodies = {
        "view": {"videoId": video["id"]},
        "event": {"videoId": video["id"], **ids, "eventType": "complete", "timestamp": 5},
        "heartbeat": beat,
        "batch": {"events": [{"kind": "heartbeat", **beat}]},
    }
    for route, body in bodies.items():
        status, answer = track(lambda_app, route, body, headers)
        assert (status, answer["error"]) == (403, "Forbidden"), (route, answer)
        assert "origin" in answer["message"]
    assert counts() == before


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": LISTED},
        {"origin": "HTTPS://WWW.EXAMPLE.TEST"},
        {"origin": "https://www.example.test:443"},
        {"origin": "http://localhost:5173"},
        {"referer": f"{LISTED}/watch/42?t=3"},
        {"origin": "http://media.test"},  # the API's own origin (MEDIA_API_URL): the embed page
        {"referer": "http://media.test/api/embed/1"},
        {},  # no page at all: a server-side player or a native app
    ],
)
def test_allowed_pages_and_requests_naming_no_page_are_recorded(
    lambda_app: Any, video: dict[str, Any], headers: dict[str, str]
) -> None:
    status, view = track(lambda_app, "view", {"videoId": video["id"]}, headers)
    assert status == 200, view
    beat = {"viewId": view["viewId"], "viewToken": view["viewToken"], "watchTimeSeconds": 2}
    assert track(lambda_app, "heartbeat", beat, headers)[0] == 200
    assert counts()[:3] == (1, 0, 2)


def test_any_origin_allows_every_page(lambda_app: Any, video: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "*")
    get_settings.cache_clear()
    assert track(lambda_app, "view", {"videoId": video["id"]}, {"origin": OTHER})[0] == 200


def test_requests_naming_no_page_can_be_refused(
    lambda_app: Any, video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("TRACKING_REQUIRE_ORIGIN", "true")
    get_settings.cache_clear()
    status, answer = track(lambda_app, "view", {"videoId": video["id"]})
    assert (status, answer["error"]) == (403, "Forbidden")
    assert track(lambda_app, "view", {"videoId": video["id"]}, {"origin": LISTED})[0] == 200
    assert counts()[0] == 1


def test_the_document_says_so(client: Any) -> None:
    operation = client.http.get("/api/openapi.json").json_body["paths"]["/api/track/view"]["post"]
    assert "403" in operation["responses"] and "TRACKING_REQUIRE_ORIGIN" in operation["description"]
