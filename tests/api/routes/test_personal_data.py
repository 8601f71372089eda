"""The rights of the person: ``GET /api/analytics/viewers/{userId}`` shows everything recorded about a user
id, to that user or an admin, and each request is logged with who asked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.repositories.personal_data import EVENT_COLUMNS, NOT_EXPORTED, VIEW_COLUMNS
from scripts.apigw import invoke, proxy_event
from tests.support.api import token_for
from tests.support.database import make_user, sql
from tests.support.logs import service_log

AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100, title="Harbour at dawn")


@pytest.fixture
def audit() -> Iterator[list[logging.LogRecord]]:
    with service_log() as records:
        yield records


def watch(app: Any, video_id: int, user_id: int, *, consent: bool = True) -> dict[str, Any]:
    """A view of ``user_id`` (with or without consent) with a heartbeat and an event, as a player sends them."""
    headers = {"authorization": f"Bearer {token_for(user_id, 'USER')}", "user-agent": AGENT}

    def post(route: str, body: dict[str, Any]) -> Any:
        status, _, answer = invoke(app, proxy_event("POST", f"/api/track/{route}", body=body, headers=headers))
        assert status == 200, answer
        return answer

    view = post("view", {"videoId": video_id, "consent": consent, "referer": "https://blog.example/post?x=1"})
    ids = {"viewId": view["viewId"], "viewToken": view["viewToken"]}
    post("heartbeat", {**ids, "watchTimeSeconds": 4, "position": 4, "qoe": {"startupTimeMs": 320}})
    post("event", {"videoId": video_id, **ids, "eventType": "pause", "timestamp": 4})
    return dict(view)


def export(client: Any, user_id: int, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.get(f"/api/analytics/viewers/{user_id}", headers=headers)


def test_a_person_sees_everything_recorded_about_them(
    lambda_app: Any, client: Any, video: dict[str, Any], audit: list[logging.LogRecord]
) -> None:
    ana, ben = make_user(role="USER"), make_user(role="USER")
    view = watch(lambda_app, video["id"], ana)
    watch(lambda_app, video["id"], ben)
    watch(lambda_app, video["id"], ana, consent=False)  # anonymous: nothing links it to her
    response = export(client, ana, token_for(ana, "USER"))
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["userId"] == ana and body["exportedAt"].endswith("Z")
    [recorded] = body["views"]
    assert recorded["viewId"] == view["viewId"]
    assert (recorded["videoId"], recorded["videoTitle"]) == (video["id"], "Harbour at dawn")
    assert (recorded["watchTimeSeconds"], recorded["lastPositionSeconds"], recorded["completed"]) == (4, 4, False)
    assert recorded["referer"] == "https://blog.example/post"
    assert (recorded["deviceType"], recorded["browser"], recorded["os"]) == ("desktop", "Chrome", "Linux")
    assert recorded["consented"] is True and recorded["source"] == "app" and len(recorded["visitorKey"]) == 64
    assert recorded["qoe"]["startupTimeMs"] == 320 and isinstance(recorded["playedHundredths"], list)
    assert [(event["eventType"], event["positionSeconds"]) for event in recorded["events"]] == [("pause", 4)]
    [line] = [record for record in audit if record.getMessage() == "Personal data exported"]
    assert (line.subject_user_id, line.requested_by, line.as_admin, line.views) == (ana, ana, False, 1)  # type: ignore[attr-defined]


def test_an_admin_may_export_anyone_and_nobody_else_may(
    lambda_app: Any, client: Any, video: dict[str, Any], admin_id: int, audit: list[logging.LogRecord]
) -> None:
    ana, ben = make_user(role="USER"), make_user(role="USER")
    watch(lambda_app, video["id"], ana)
    as_admin = export(client, ana, token_for(admin_id))
    assert as_admin.status_code == 200 and len(as_admin.json_body["views"]) == 1
    assert export(client, ana, token_for(ben, "USER")).status_code == 403
    assert export(client, ana, None).status_code == 401
    assert export(client, ana, "not-a-token").status_code == 401
    [line] = [record for record in audit if record.getMessage() == "Personal data exported"]
    assert (line.subject_user_id, line.requested_by, line.as_admin) == (ana, admin_id, True)  # type: ignore[attr-defined]


def test_an_id_with_nothing_recorded_answers_nothing(client: Any, admin_id: int) -> None:
    response = export(client, 424242, token_for(admin_id))
    assert response.status_code == 200 and response.json_body["views"] == []


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "\u00b2", "2147483648", "1.5", "%201"])
def test_a_user_id_is_ascii_digits(client: Any, admin_id: int, raw: str) -> None:
    response = client.http.get(
        f"/api/analytics/viewers/{raw}", headers={"Authorization": f"Bearer {token_for(admin_id)}"}
    )
    assert response.status_code == 400, response.body


def test_the_export_shows_every_column_or_says_why_not() -> None:
    """A column added to video_views or video_events must be exported, or listed with its reason."""
    views = {
        row[0] for row in sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'video_views'")
    }
    events = {
        row[0] for row in sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'video_events'")
    }
    assert views == set(VIEW_COLUMNS) | set(NOT_EXPORTED)
    assert events == set(EVENT_COLUMNS)
