"""No client input reaches PostgreSQL or date arithmetic unchecked: every case here used to be a 500.

Each request goes through the deployed entry point (API Gateway proxy events into the
Chalice app), public and admin routes alike, and must get a 4xx JSON error while
nothing stored changes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from scripts.apigw import invoke, proxy_event
from tests.support.api import token_for

DEEP = "[" * 5000
JSON_ROUTES = [
    ("POST", "/api/track/view", {}),
    ("POST", "/api/track/event", {}),
    ("POST", "/api/track/heartbeat", {}),
    ("POST", "/api/track/batch", {}),
    ("POST", "/api/videos", {}),
    ("PATCH", "/api/videos/{video_id}", {"video_id": "1"}),
    ("POST", "/api/videos/upload-url", {}),
    ("POST", "/api/videos/{video_id}/schedule-publish", {"video_id": "1"}),
    ("POST", "/api/videos/{video_id}/schedule-unpublish", {"video_id": "1"}),
]


@pytest.fixture
def app(lambda_app: Any) -> Any:
    return lambda_app


@pytest.fixture
def admin(admin_id: int) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(admin_id)}"}


def call(app: Any, method: str, resource: str, **kwargs: Any) -> tuple[int, Any]:
    status, _headers, body = invoke(app, proxy_event(method, resource, **kwargs))
    return status, body


def stored() -> list[Any]:
    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        return list(connection.execute(text("SELECT id, title, producer, filename FROM videos ORDER BY id")).all())


@pytest.mark.parametrize(("method", "resource", "path_parameters"), JSON_ROUTES)
def test_a_body_nested_5000_deep_is_400_on_every_json_route(
    app: Any, admin: dict[str, str], create_video: Any, method: str, resource: str, path_parameters: dict[str, str]
) -> None:
    video = create_video()
    path_parameters = {name: str(video["id"]) for name in path_parameters}
    status, body = call(app, method, resource, body=DEEP, headers=admin, path_parameters=path_parameters)
    assert status == 400, body
    assert body["error"] == "BadRequest" and "nested" in body["message"]


def test_nesting_within_the_limit_is_judged_on_its_content(app: Any, admin: dict[str, str]) -> None:
    status, body = call(app, "POST", "/api/videos", body=json.dumps({"filename": [[[["x"]]]]}), headers=admin)
    assert status == 400 and "filename" in body["message"]


BIDI_CONTROLS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.mark.parametrize(
    "bad",
    ["a\x00b", "tab\tinside", "bell\x07", "del\x7f", "c1\x85", "\ud800", *(f"4pm{c}4pm.exe" for c in BIDI_CONTROLS)],
)
@pytest.mark.parametrize("field", ["title", "producer", "creator"])
def test_control_characters_in_admin_text_are_400_and_change_nothing(
    app: Any, admin: dict[str, str], create_video: Any, field: str, bad: str
) -> None:
    video = create_video(title="Before")
    before = stored()
    status, body = call(
        app,
        "PATCH",
        "/api/videos/{video_id}",
        body=json.dumps({field: bad}),
        headers=admin,
        path_parameters={"video_id": str(video["id"])},
    )
    assert status == 400, body
    assert field in body["message"] and "control characters" in body["message"]
    assert stored() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"filename": "videos/a\x00.mp4"},
        {"filename": "videos/a\x00.mp4", "title": "T"},
        {"filename": "a\x00.mp4", "duration": 1, "fileSize": 1, "width": 2, "height": 2},
        {"filename": "videos/clip\u202egpj.exe", "duration": 1, "fileSize": 1, "width": 2, "height": 2},
        {"filename": "videos/clip\u2066.mp4"},
    ],
)
def test_a_nul_or_bidi_override_in_filename_is_400(app: Any, admin: dict[str, str], payload: dict[str, Any]) -> None:
    status, body = call(app, "POST", "/api/videos", body=json.dumps(payload), headers=admin)
    assert status == 400 and "filename" in body["message"], body
    assert stored() == []


def test_a_bidi_override_in_a_thumbnail_url_or_search_is_400(
    app: Any, admin: dict[str, str], create_video: Any
) -> None:
    video = create_video(title="Before")
    before = stored()
    body = json.dumps({"thumbnailUrl": "https://cdn.example/\u202egpj.exe"})
    path = {"video_id": str(video["id"])}
    status, answer = call(app, "PATCH", "/api/videos/{video_id}", body=body, headers=admin, path_parameters=path)
    assert status == 400 and "thumbnailUrl" in answer["message"], answer
    assert stored() == before
    status, answer = call(app, "GET", "/api/videos", query={"search": "\u202eabc"})
    assert status == 400 and "search" in answer["message"], answer


def test_right_to_left_marks_are_text_and_stay(app: Any, admin: dict[str, str], create_video: Any) -> None:
    """LRM and RLM reorder nothing; Hebrew and Arabic titles need them around numbers and punctuation."""
    video = create_video(title="Before")
    title = "\u05e9\u05dc\u05d5\u05dd 2024\u200f!"
    path = {"video_id": str(video["id"])}
    body = json.dumps({"title": title, "creator": "\u200eAna"})
    status, answer = call(app, "PATCH", "/api/videos/{video_id}", body=body, headers=admin, path_parameters=path)
    assert status == 200, answer
    assert (answer["title"], answer["creator"]) == (title, "\u200eAna")


def test_a_nul_in_an_upload_filename_is_400(app: Any, admin: dict[str, str]) -> None:
    payload = {"filename": "clip\x00.mp4", "contentType": "video/mp4", "fileSize": 10}
    status, body = call(app, "POST", "/api/videos/upload-url", body=json.dumps(payload), headers=admin)
    assert status == 400 and "filename" in body["message"]


@pytest.mark.parametrize("search", ["a\x00b", "%00", "x\x1b[31m"])
@pytest.mark.parametrize("auth", [False, True])
def test_control_characters_in_search_are_400_for_public_and_admin(
    app: Any, admin: dict[str, str], search: str, auth: bool
) -> None:
    status, body = call(
        app, "GET", "/api/videos", query={"search": search.replace("%00", "\x00")}, headers=admin if auth else None
    )
    assert status == 400 and "search" in body["message"], body


NOT_ASCII_INTEGERS = ["\u00b2", "\u0663", "\uff13", "1\u00b2", "0x10", "1e3", " 5", "5 ", "+5", "-1", "1_000"]


@pytest.mark.parametrize("raw", NOT_ASCII_INTEGERS)
def test_limit_and_offset_take_ascii_digits_only(app: Any, admin: dict[str, str], raw: str) -> None:
    for name in ("limit", "offset"):
        status, body = call(app, "GET", "/api/videos", query={name: raw}, headers=admin)
        assert status == 400, (name, raw, body)
    status, _ = call(app, "GET", "/api/videos/schedules/upcoming", query={"limit": raw}, headers=admin)
    assert status == 400


@pytest.mark.parametrize("raw", ["\u00b2", "\u0663", "\uff13", "\uff11\uff12", "1.0", "0", "00"])
def test_path_ids_take_ascii_digits_only(app: Any, admin: dict[str, str], create_video: Any, raw: str) -> None:
    create_video()
    for resource in (
        "/api/videos/{video_id}",
        "/api/videos/{video_id}/analytics",
        "/api/videos/{video_id}/schedule-history",
    ):
        status, body = call(app, "GET", resource, headers=admin, path_parameters={"video_id": raw})
        assert status == 400, (resource, raw, body)


@pytest.mark.parametrize(
    "query",
    [
        {"endDate": "9999-12-31T23:00:00-05:00"},
        {"startDate": "0001-01-01"},
        {"startDate": "0001-01-01T00:00:00+14:00"},
        {"endDate": "9999-12-31"},
        {"startDate": "2026-02-30"},
        {"startDate": "yesterday"},
        {"startDate": "2026-01-01\x00"},
    ],
)
def test_analytics_dates_out_of_range_or_malformed_are_400(
    app: Any, admin: dict[str, str], create_video: Any, query: dict[str, str]
) -> None:
    video = create_video()
    status, body = call(
        app,
        "GET",
        "/api/videos/{video_id}/analytics",
        headers=admin,
        query=query,
        path_parameters={"video_id": str(video["id"])},
    )
    assert status == 400, body
    assert body["error"] == "BadRequest"


def test_a_user_agent_and_referrer_with_control_characters_are_cleaned_not_refused(app: Any, create_video: Any) -> None:
    from chalicelib.db.engine import get_engine

    video = create_video(published=True)
    body = json.dumps({"videoId": video["id"], "referer": "https://blog.example/a\x00b\u202e?session=secret#frag"})
    agent = "Bot/1.0\x00\x07 (X11\u2066)"
    status, _ = call(app, "POST", "/api/track/view", body=body, headers={"user-agent": agent})
    assert status == 200
    with get_engine().begin() as connection:
        browser, referer = connection.execute(text("SELECT browser, referer FROM video_views")).one()
    assert browser == "Bot"  # what the parser makes of the cleaned "Bot (X11)"
    assert referer == "https://blog.example/ab"
