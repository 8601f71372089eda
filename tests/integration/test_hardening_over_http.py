"""The holes an adversarial run found, each closed and checked over real HTTP against the local server
`make dev` runs (with a moto S3 for the media): a tracking write racing a video's deletion, batches
and the per-IP budgets, the 48-hour rule, referrer paths, ingest deleting outside videos/, integer
claims, our own signed URLs stored, bidi overrides in admin text, and what health tells the public."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support.api import token_for, video_payload
from tests.support.database import make_user, sql
from tests.support.env import BASE_ENV, TEST_JWT_SECRET
from tests.support.http import Answer, request
from tests.support.local_server import LocalServer, local_server
from tests.support.media import (  # noqa: F401
    MediaFiles,
    media_bucket_fixture,
    media_files_fixture,
    moto_endpoint_fixture,
    upload,
)


@pytest.fixture
def api(media_bucket: str, moto_endpoint: str, database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url, "AWS_ENDPOINT_URL": moto_endpoint}
    with local_server(env, log=tmp_path / "server.log", own_url=True) as server:
        yield server


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(make_user(role='SUPER_ADMIN'))}"}


def new_video(api: LocalServer, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    created = request(api.base, "POST", "/api/videos", video_payload(**fields), headers=admin)
    assert created.status == 201, created.body
    published = request(api.base, "PATCH", f"/api/videos/{created.body['id']}", {"isPublished": True}, headers=admin)
    assert published.status == 200
    return dict(published.body)


def track(api: LocalServer, route: str, body: Any, ip: str = "127.0.0.1") -> Answer:
    return request(api.base, "POST", f"/api/track/{route}", body, source_ip=ip)


def one_window() -> None:
    """Per-minute budgets are calendar minutes: keep a burst inside one."""
    if datetime.now(UTC).second >= 40:
        time.sleep(61 - datetime.now(UTC).second)


def test_tracking_racing_a_video_deletion_is_404_never_500_and_leaves_nothing(
    api: LocalServer, admin: dict[str, str]
) -> None:
    statuses: list[int] = []
    for round_number in range(5):
        video = new_video(api, admin, duration=100)["id"]
        ip = f"127.0.1.{round_number + 1}"
        first = track(api, "view", {"videoId": video}, ip).body
        ids = {"viewId": first["viewId"], "viewToken": first["viewToken"]}
        writes = [
            ("view", {"videoId": video}),
            ("event", {"videoId": video, **ids, "eventType": "play", "timestamp": 1}),
            ("heartbeat", {**ids, "watchTimeSeconds": 2}),
            ("batch", {"events": [{"kind": "event", "videoId": video, "eventType": "seek", "timestamp": 2}]}),
        ] * 8
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = [pool.submit(track, api, route, body, ip) for route, body in writes]
            deletion = pool.submit(request, api.base, "DELETE", f"/api/videos/{video}", headers=admin)
            statuses += [answer.result().status for answer in answers]
            assert deletion.result().status == 204
        assert sql("SELECT count(*) FROM video_views WHERE video_id = :v", v=video) == [(0,)]
        assert sql("SELECT count(*) FROM video_events WHERE video_id = :v", v=video) == [(0,)]
    assert set(statuses) <= {200, 404}, sorted(set(statuses))


def test_a_batch_spends_the_event_budget_item_by_item(api: LocalServer, admin: dict[str, str]) -> None:
    one_window()
    video = new_video(api, admin)["id"]
    item = {"kind": "event", "videoId": video, "eventType": "play", "timestamp": 1}
    answer = track(api, "batch", {"events": [item] * 500}, "127.0.2.1")
    assert answer.status == 200 and answer.body["accepted"] == 100
    assert len(answer.body["rejected"]) == 400 and {item["status"] for item in answer.body["rejected"]} == {429}
    assert int(answer.headers["retry-after"]) >= 1
    assert track(api, "event", {k: v for k, v in item.items() if k != "kind"}, "127.0.2.1").status == 429
    assert sql("SELECT count(*) FROM video_events") == [(100,)]


def test_no_write_changes_a_view_older_than_48_hours(api: LocalServer, admin: dict[str, str]) -> None:
    from chalicelib.services.tracking import view_token

    video = new_video(api, admin, duration=1000)["id"]
    [(old,)] = sql(
        "INSERT INTO video_views (video_id, created_at) VALUES (:v, :at) RETURNING id",
        v=video,
        at=datetime.now(UTC) - timedelta(hours=49),
    )
    ids = {"viewId": old, "viewToken": view_token(old)}
    beat = {**ids, "watchTimeSeconds": 1700, "position": 30}
    complete = {"videoId": video, **ids, "eventType": "complete", "timestamp": 30}
    assert track(api, "heartbeat", beat).status == 200
    assert track(api, "event", complete).status == 200
    batch = track(api, "batch", {"events": [{"kind": "heartbeat", **beat}, {"kind": "event", **complete}]})
    assert batch.body == {"accepted": 2, "rejected": []}
    assert [tuple(row) for row in sql("SELECT watch_time_seconds, completed, last_position FROM video_views")] == [
        (0, False, None)
    ]


def test_a_referrer_path_keeps_no_parameters_addresses_or_tokens(api: LocalServer, admin: dict[str, str]) -> None:
    video = new_video(api, admin)["id"]
    token = jwt.encode({"sub": "1", "exp": 9999999999}, "k", algorithm="HS256")
    for referer in (
        "https://shop.example/app;jsessionid=1A2B3C4D/watch?x=1#y",
        "https://mail.example/unsubscribe/ann%40mail.example",
        f"https://media.example/api/videos/preview/{token}",
    ):
        assert track(api, "view", {"videoId": video, "referer": referer}).status == 200
    assert [row[0] for row in sql("SELECT referer FROM video_views ORDER BY id")] == [
        "https://shop.example/app/watch",
        "https://mail.example/unsubscribe",
        "https://media.example/api/videos/preview",
    ]


def test_ingest_never_deletes_an_object_outside_videos(
    api: LocalServer, admin: dict[str, str], media_files: MediaFiles
) -> None:
    from chalicelib.adapters.aws import client
    from chalicelib.config import get_settings

    upload(media_files.image, "thumbnails/42/poster.jpg", content_type="image/jpeg")
    answer = request(api.base, "POST", "/api/videos", {"filename": "thumbnails/42/poster.jpg"}, headers=admin)
    assert answer.status == 422, answer.body
    client("s3").head_object(Bucket=get_settings().media_bucket, Key="thumbnails/42/poster.jpg")  # still there


@pytest.mark.parametrize("subject", ["\u00b2", "\u0661", "1\u00b2"])
def test_a_preview_token_with_a_non_ascii_digit_subject_is_401(api: LocalServer, subject: str) -> None:
    now = int(time.time())
    claims = {"sub": subject, "aud": "media-api:video-preview", "token_use": "video_preview", "exp": now + 60}
    token = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    answer = request(api.base, "GET", f"/api/videos/preview/{token}")
    assert (answer.status, answer.body["error"]) == (401, "Unauthorized")


def test_a_get_then_patch_round_trip_stores_no_signed_url(
    api: LocalServer, admin: dict[str, str], media_files: MediaFiles
) -> None:
    video = new_video(api, admin, thumbnailUrl=None)["id"]
    upload(media_files.image, "thumbnails/round/trip.jpg", content_type="image/jpeg")
    sql("UPDATE videos SET thumbnail_key = 'thumbnails/round/trip.jpg'")
    fetched = request(api.base, "GET", f"/api/videos/{video}", headers=admin).body
    assert "X-Amz-Signature=" in fetched["thumbnailUrl"]
    edit = {name: fetched[name] for name in ("title", "producer", "creator", "thumbnailUrl")}
    assert request(api.base, "PATCH", f"/api/videos/{video}", edit, headers=admin).status == 200
    [(stored,)] = sql("SELECT thumbnail_url FROM videos")
    assert stored.endswith("/thumbnails/round/trip.jpg") and "?" not in stored


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u202a"])
def test_bidi_controls_in_admin_text_are_400(api: LocalServer, admin: dict[str, str], control: str) -> None:
    video = new_video(api, admin, title="Before")["id"]
    answer = request(api.base, "PATCH", f"/api/videos/{video}", {"title": f"4pm{control}gpj.exe"}, headers=admin)
    assert (answer.status, answer.body["error"]) == (400, "BadRequest")
    assert sql("SELECT title FROM videos") == [("Before",)]


def test_health_tells_the_public_its_status_only(api: LocalServer, admin: dict[str, str]) -> None:
    public = request(api.base, "GET", "/api/health")
    assert public.status == 200 and set(public.body) == {"status"}
    detailed = request(api.base, "GET", "/api/health", headers=admin)
    assert {"database", "scheduler", "uptime"} <= set(detailed.body)
