"""Quick actions: duplicate (server-side S3 copy) and preview links, on moto S3 and PostgreSQL."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import jwt
import pytest
from sqlalchemy import text

from chalicelib.adapters.aws import client as aws_client
from chalicelib.db.engine import get_engine
from tests.support.api import token_for
from tests.support.env import TEST_JWT_SECRET
from tests.support.media import MediaFiles, upload


@pytest.fixture
def stored_video(create_video: Any, media_bucket: str, media_files: MediaFiles) -> dict[str, Any]:
    """A published video with views, a pending schedule and a media object in the bucket."""
    key = "videos/src/landscape.mp4"
    upload(media_files.landscape, key)
    video = create_video(
        published=True, filename=key, title="Launch day", fileSize=media_files.landscape.stat().st_size
    )
    with get_engine().begin() as connection:
        connection.execute(
            text("UPDATE videos SET scheduled_unpublish_at = now() + interval '1 day' WHERE id = :id"),
            {"id": video["id"]},
        )
        connection.execute(text("INSERT INTO video_views (video_id, watch_time_seconds) VALUES (:id, 30)"), video)
    return video


def test_duplicate_copies_metadata_and_media(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any], media_bucket: str
) -> None:
    response = client.http.post(f"/api/videos/{stored_video['id']}/duplicate", headers=admin_headers)
    assert response.status_code == 201, response.body
    copy = response.json_body
    assert copy["id"] != stored_video["id"]
    assert copy["title"] == "Launch day (Copy)"
    for field in ("producer", "creator", "thumbnailUrl", "duration", "fileSize", "width", "height", "orientation"):
        assert copy[field] == stored_video[field], field
    assert copy["isPublished"] is False
    assert copy["scheduledPublishAt"] is None and copy["scheduledUnpublishAt"] is None
    assert (copy["uniqueViewers"], copy["totalWatchTimeSeconds"], copy["completionRate"]) == (0, 0, 0)
    assert copy["filename"] != stored_video["filename"]
    assert copy["filename"].startswith("videos/") and copy["filename"].endswith("/landscape.mp4")
    s3 = aws_client("s3")
    original = s3.get_object(Bucket=media_bucket, Key=stored_video["filename"])["Body"].read()
    assert s3.get_object(Bucket=media_bucket, Key=copy["filename"])["Body"].read() == original
    with get_engine().connect() as connection:
        views = connection.execute(text("SELECT count(*) FROM video_views WHERE video_id = :id"), copy).scalar()
        history = connection.execute(
            text("SELECT count(*) FROM video_schedule_history WHERE video_id = :id"), copy
        ).scalar()
    assert (views, history) == (0, 0)
    second = client.http.post(f"/api/videos/{stored_video['id']}/duplicate", headers=admin_headers).json_body
    assert second["filename"] not in {copy["filename"], stored_video["filename"]}


def test_duplicate_ingest_notification_of_the_copy_keeps_one_row(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any], media_bucket: str
) -> None:
    from tests.support.media import s3_notification

    copy = client.http.post(f"/api/videos/{stored_video['id']}/duplicate", headers=admin_headers).json_body
    event = client.events.generate_sqs_event(message_bodies=[s3_notification(media_bucket, copy["filename"])])
    client.lambda_.invoke("ingest_uploaded_video", event)
    with get_engine().connect() as connection:
        rows = connection.execute(text("SELECT title, is_published FROM videos WHERE filename = :filename"), copy)
        assert [tuple(row) for row in rows] == [("Launch day (Copy)", False)]


def test_duplicate_without_media_object_is_409_and_writes_nothing(
    client: Any, admin_headers: dict[str, str], create_video: Any, media_bucket: str
) -> None:
    video = create_video(filename="videos/none/missing.mp4")
    response = client.http.post(f"/api/videos/{video['id']}/duplicate", headers=admin_headers)
    assert response.status_code == 409
    assert "missing" in response.json_body["message"]
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM videos")).scalar() == 1


def test_duplicate_errors(client: Any, admin_headers: dict[str, str], media_bucket: str) -> None:
    assert client.http.post("/api/videos/999/duplicate", headers=admin_headers).status_code == 404
    assert client.http.post("/api/videos/abc/duplicate", headers=admin_headers).status_code == 400
    assert client.http.post("/api/videos/1/duplicate").status_code == 401


# --- preview links ---------------------------------------------------------------------------


def _preview_link(client: Any, headers: dict[str, str], video_id: int) -> dict[str, Any]:
    response = client.http.get(f"/api/videos/{video_id}/preview-link", headers=headers)
    assert response.status_code == 200, response.body
    return response.json_body


def test_preview_link_opens_an_unpublished_video_with_a_stream_url(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any], media_files: MediaFiles
) -> None:
    client.http.patch(f"/api/videos/{stored_video['id']}", headers=admin_headers, body=b'{"isPublished": false}')
    link = _preview_link(client, admin_headers, stored_video["id"])
    assert link["expiryHours"] == 24
    assert link["previewUrl"].startswith("http://media.test/api/videos/preview/")
    token = link["previewUrl"].rsplit("/", 1)[1]
    response = client.http.get(f"/api/videos/preview/{token}")
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["id"] == stored_video["id"] and body["isPublished"] is False
    assert response.headers["Cache-Control"] == "no-store"
    assert 6 * 3600 <= body["streamUrlExpiresIn"] <= 6 * 3600 + 300  # VIDEO_STREAM_URL_TTL_SECONDS, window-rounded
    with urllib.request.urlopen(body["streamUrl"], timeout=10) as stream:
        assert stream.read() == media_files.landscape.read_bytes()
    # the unpublished video stays hidden from the public library
    assert client.http.get(f"/api/videos/{stored_video['id']}").status_code == 404


def test_preview_expiry_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    """VIDEO_PREVIEW_LINK_EXPIRY_HOURS (the Chalice test client pins config.json's 24, so checked here)."""
    from chalicelib.config import get_settings
    from chalicelib.services.preview import decode_preview_token, issue_preview_link

    monkeypatch.setenv("VIDEO_PREVIEW_LINK_EXPIRY_HOURS", "2")
    get_settings.cache_clear()
    link = issue_preview_link(42)
    claims = jwt.decode(link.token, TEST_JWT_SECRET, algorithms=["HS256"], audience="media-api:video-preview")
    assert link.expiry_hours == 2 and claims["exp"] - claims["iat"] == 7200
    assert decode_preview_token(link.token) == 42


def test_preview_link_errors(client: Any, admin_headers: dict[str, str], admin_id: int) -> None:
    assert client.http.get("/api/videos/999/preview-link", headers=admin_headers).status_code == 404
    assert client.http.get("/api/videos/1/preview-link").status_code == 401
    viewer = token_for(admin_id, role="USER")
    assert (
        client.http.get("/api/videos/1/preview-link", headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    )


def test_expired_preview_is_410(client: Any, create_video: Any) -> None:
    from chalicelib.services.preview import issue_preview_link

    video = create_video()
    old = issue_preview_link(video["id"], now=int(time.time()) - 25 * 3600)
    response = client.http.get(f"/api/videos/preview/{old.token}")
    assert response.status_code == 410
    assert response.json_body["error"] == "Gone"


def test_deleted_video_preview_is_404(client: Any, admin_headers: dict[str, str], create_video: Any) -> None:
    video = create_video()
    token = _preview_link(client, admin_headers, video["id"])["previewUrl"].rsplit("/", 1)[1]
    assert client.http.delete(f"/api/videos/{video['id']}", headers=admin_headers).status_code == 204
    assert client.http.get(f"/api/videos/preview/{token}").status_code == 404


def test_tokens_never_cross_over(client: Any, admin_headers: dict[str, str], admin_id: int, create_video: Any) -> None:
    video = create_video()
    preview_token = _preview_link(client, admin_headers, video["id"])["previewUrl"].rsplit("/", 1)[1]
    # a preview token is not an access token, even for an admin-only route
    as_access = {"Authorization": f"Bearer {preview_token}", "Content-Type": "application/json"}
    assert client.http.get(f"/api/videos/{video['id']}/preview-link", headers=as_access).status_code == 401
    # an access token (admin's, valid) is not a preview token
    assert client.http.get(f"/api/videos/preview/{token_for(admin_id)}").status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "1", "aud": "media-api:video-preview", "token_use": "access"},
        {"sub": "1", "aud": "another-audience", "token_use": "video_preview"},
        {"sub": "1", "token_use": "video_preview"},
        {"sub": "1", "aud": "media-api:video-preview"},
        {"sub": "abc", "aud": "media-api:video-preview", "token_use": "video_preview"},
        {"aud": "media-api:video-preview", "token_use": "video_preview"},
    ],
)
def test_malformed_preview_tokens_are_401(client: Any, create_video: Any, claims: dict[str, Any]) -> None:
    create_video()
    now = int(time.time())
    token = jwt.encode({**claims, "iat": now, "exp": now + 600}, TEST_JWT_SECRET, algorithm="HS256")
    assert client.http.get(f"/api/videos/preview/{token}").status_code == 401


def test_forged_and_garbage_preview_tokens_are_401(client: Any, create_video: Any) -> None:
    video = create_video()
    now = int(time.time())
    claims = {"sub": str(video["id"]), "aud": "media-api:video-preview", "token_use": "video_preview", "exp": now + 60}
    forged = jwt.encode(claims, "some-other-secret-0123456789abcdef012345", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    # an expired token with a bad signature is invalid (401), not expired (410)
    forged_expired = jwt.encode(
        {**claims, "exp": now - 60}, "another-secret-0123456789abcdef0123456", algorithm="HS256"
    )
    for token in (forged, unsigned, forged_expired, "garbage", "a.b.c", "x" * 3000):
        assert client.http.get(f"/api/videos/preview/{token}").status_code == 401, token[:40]
