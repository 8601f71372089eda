"""Consent, Global Privacy Control and the source of views, through the Lambda entry point.

A view carries the caller's user id only with ``"consent": true`` and no ``Sec-GPC: 1``; its
heartbeats and events never add one; registered-viewer lists show consented views only.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.apigw import invoke, proxy_event
from tests.support.api import token_for
from tests.support.database import make_user, sql


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


@pytest.fixture
def viewer() -> dict[str, str]:
    user_id = make_user(role="USER", name="Ana")
    return {"authorization": f"Bearer {token_for(user_id, 'USER')}", "user_id": str(user_id)}


def track(app: Any, route: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    sent = {name: value for name, value in (headers or {}).items() if name != "user_id"}
    status, _, answer = invoke(app, proxy_event("POST", f"/api/track/{route}", body=body, headers=sent))
    assert status == 200, answer
    return dict(answer or {})


def stored() -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sql("SELECT user_id, consented FROM video_views ORDER BY id")]


@pytest.mark.parametrize("consent", [None, False])
def test_a_token_without_consent_stores_no_user_id(
    lambda_app: Any, video: dict[str, Any], viewer: dict[str, str], consent: bool | None
) -> None:
    body: dict[str, Any] = {"videoId": video["id"]}
    if consent is not None:
        body["consent"] = consent
    track(lambda_app, "view", body, viewer)
    assert stored() == [(None, False)]


def test_a_token_with_consent_stores_the_user_id(
    lambda_app: Any, video: dict[str, Any], viewer: dict[str, str]
) -> None:
    track(lambda_app, "view", {"videoId": video["id"], "consent": True}, viewer)
    assert stored() == [(int(viewer["user_id"]), True)]


@pytest.mark.parametrize(("gpc", "expected_user"), [("1", False), (" 1 ", False), ("0", True), ("", True)])
def test_global_privacy_control_wins_over_consent(
    lambda_app: Any, video: dict[str, Any], viewer: dict[str, str], gpc: str, expected_user: bool
) -> None:
    track(lambda_app, "view", {"videoId": video["id"], "consent": True}, {**viewer, "sec-gpc": gpc})
    user_id = int(viewer["user_id"])
    assert stored() == [(user_id, True) if expected_user else (None, False)]


def test_an_anonymous_view_stays_anonymous_whatever_its_heartbeats_and_events_carry(
    lambda_app: Any, video: dict[str, Any], viewer: dict[str, str]
) -> None:
    view = track(lambda_app, "view", {"videoId": video["id"]}, viewer)
    ids = {"viewId": view["viewId"], "viewToken": view["viewToken"]}
    track(lambda_app, "heartbeat", {**ids, "watchTimeSeconds": 5, "consent": True}, viewer)
    track(lambda_app, "event", {"videoId": video["id"], **ids, "eventType": "pause", "timestamp": 5}, viewer)
    track(lambda_app, "batch", {"events": [{"kind": "heartbeat", **ids, "watchTimeSeconds": 9}]}, viewer)
    assert stored() == [(None, False)]


@pytest.mark.parametrize("consent", ["true", 1, "yes", None])
def test_consent_is_a_json_boolean(lambda_app: Any, video: dict[str, Any], consent: Any) -> None:
    status, _, answer = invoke(
        lambda_app, proxy_event("POST", "/api/track/view", body={"videoId": video["id"], "consent": consent})
    )
    assert (status, answer["error"]) == (400, "BadRequest")
    assert "consent" in answer["message"]


def test_registered_viewers_are_only_those_who_consented(
    lambda_app: Any, client: Any, video: dict[str, Any], viewer: dict[str, str], admin_headers: dict[str, str]
) -> None:
    consenting = int(viewer["user_id"])
    silent = make_user(role="USER", name="Ben")
    track(lambda_app, "view", {"videoId": video["id"], "consent": True}, viewer)
    track(lambda_app, "view", {"videoId": video["id"]}, {"authorization": f"Bearer {token_for(silent, 'USER')}"})
    # A view recorded before consent was asked for: it carries a user id, and no consent.
    legacy = make_user(role="USER", name="Cy")
    sql("INSERT INTO video_views (video_id, user_id) VALUES (:video, :user)", video=video["id"], user=legacy)
    response = client.http.get(f"/api/videos/{video['id']}/analytics/viewers", headers=admin_headers)
    assert response.status_code == 200
    assert [row["userId"] for row in response.json_body["viewers"]] == [consenting]


def test_a_view_records_whether_a_page_or_an_app_sent_it(lambda_app: Any, video: dict[str, Any]) -> None:
    track(lambda_app, "view", {"videoId": video["id"]}, {"origin": "http://media.test"})  # the embed page
    track(lambda_app, "view", {"videoId": video["id"]})  # a server-side player
    assert [row[0] for row in sql("SELECT source FROM video_views ORDER BY id")] == ["web", "app"]
