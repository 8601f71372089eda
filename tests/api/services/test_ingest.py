"""Ingest: presigned upload URLs, the SQS-driven ingest function and synchronous ingest,
against a real PostgreSQL, a moto S3 server and real ffprobe on generated media."""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from tests.support.api import json_body, video_payload
from tests.support.media import MediaFiles, s3_notification, upload


def _rows() -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        result = connection.execute(text("SELECT * FROM videos ORDER BY id"))
        return [dict(row._mapping) for row in result]


def _invoke_ingest(client: Any, *bodies: str) -> Any:
    event = client.events.generate_sqs_event(message_bodies=list(bodies), queue_name="media-api-ingest")
    return client.lambda_.invoke("ingest_uploaded_video", event)


# --- upload URL -------------------------------------------------------------------------------


def _upload_url(client: Any, headers: dict[str, str], **body: Any) -> Any:
    payload = {"filename": "My Holiday.mp4", "contentType": "video/mp4", "fileSize": 1000, **body}
    return client.http.post("/api/videos/upload-url", headers=headers, body=json_body(payload))


def test_upload_url_route_is_not_taken_for_a_video_id(
    client: Any, admin_headers: dict[str, str], media_bucket: str
) -> None:
    response = _upload_url(client, admin_headers)
    assert response.status_code == 200, response.body
    body = response.json_body
    assert set(body) >= {"uploadUrl", "key", "expiresIn"}
    # GET on the static path must not fall through to GET /api/videos/{video_id}.
    assert client.http.get("/api/videos/upload-url", headers=admin_headers).status_code == 405


def test_upload_url_key_is_sanitised_and_unique(client: Any, admin_headers: dict[str, str], media_bucket: str) -> None:
    keys = set()
    for name in ("../../etc/passwd.mp4", "/abs/My Holiday (1).mp4", "..\\..\\win.mov", "ok.mp4"):
        response = _upload_url(client, admin_headers, filename=name)
        assert response.status_code == 200, response.body
        key = response.json_body["key"]
        assert key.startswith("videos/") and ".." not in key.split("/") and not key.startswith("/")
        assert all(ch.isalnum() or ch in "/._-" for ch in key)
        keys.add(key)
    assert len(keys) == 4
    response = _upload_url(client, admin_headers, filename="ok.mp4")
    assert response.json_body["key"] not in keys and response.json_body["key"].endswith("/ok.mp4")
    assert response.json_body["key"].split("/")[2] == "ok.mp4"


def test_upload_url_signs_put_with_type_and_length(
    client: Any, admin_headers: dict[str, str], media_bucket: str
) -> None:
    body = _upload_url(client, admin_headers, contentType="Video/QuickTime", fileSize=4242).json_body
    url = urllib.parse.urlsplit(body["uploadUrl"])
    query = urllib.parse.parse_qs(url.query)
    assert url.path.endswith(body["key"]) and media_bucket in body["uploadUrl"]
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert "content-type" in signed and "content-length" in signed
    assert body["headers"] == {"Content-Type": "video/quicktime"} and body["method"] == "PUT"
    assert 0 < body["expiresIn"] <= 3600


@pytest.mark.parametrize(
    ("override", "status"),
    [
        ({"contentType": "image/png"}, 422),
        ({"contentType": "application/octet-stream"}, 422),
        ({"contentType": "video/mp4; x=<script>"}, 422),
        ({"fileSize": 0}, 422),
        ({"fileSize": "big"}, 400),
        ({"filename": "..."}, 400),
        ({"filename": ""}, 422),
        ({"fileSize": 5 * 1024**3 + 1}, 413),
    ],
)
def test_upload_url_rejects_bad_requests(
    client: Any, admin_headers: dict[str, str], media_bucket: str, override: dict[str, Any], status: int
) -> None:
    response = _upload_url(client, admin_headers, **override)
    assert response.status_code == status, response.body
    assert set(response.json_body) == {"error", "message"}


def test_upload_cap_is_configurable(
    client: Any, admin_headers: dict[str, str], media_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDEO_UPLOAD_MAX_BYTES", "1000")
    get_settings.cache_clear()
    assert _upload_url(client, admin_headers, fileSize=1000).status_code == 200
    assert _upload_url(client, admin_headers, fileSize=1001).status_code == 413


def test_upload_url_requires_admin(client: Any, media_bucket: str) -> None:
    from tests.support.api import token_for
    from tests.support.database import make_user

    assert _upload_url(client, {"Content-Type": "application/json"}).status_code == 401
    viewer = make_user(role="USER")
    headers = {"Authorization": f"Bearer {token_for(viewer, 'USER')}", "Content-Type": "application/json"}
    assert _upload_url(client, headers).status_code == 403


def test_presigned_put_upload_then_ingest(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    data = media_files.portrait.read_bytes()
    ticket = _upload_url(client, admin_headers, filename="portrait.mp4", fileSize=len(data)).json_body
    request = urllib.request.Request(ticket["uploadUrl"], data=data, method="PUT", headers=ticket["headers"])
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    result = _invoke_ingest(client, s3_notification(media_bucket, ticket["key"]))
    assert result.payload is None
    [row] = _rows()
    assert row["filename"] == ticket["key"] and row["title"] == "portrait"
    assert (row["width"], row["height"], row["orientation"], row["quality"], row["has_audio"]) == (
        720,
        1280,
        "V",
        "HD",
        False,
    )
    assert row["file_size"] == len(data) and row["is_published"] is False


# --- the SQS ingest function ------------------------------------------------------------------


def test_redelivery_does_not_create_a_second_row(client: Any, media_bucket: str, media_files: MediaFiles) -> None:
    key = "videos/0a/Sunset at sea.mp4"
    upload(media_files.landscape, key)
    body = s3_notification(media_bucket, key)
    _invoke_ingest(client, body)
    with get_engine().begin() as connection:
        connection.execute(text("UPDATE videos SET title = 'Edited', is_published = true"))
    _invoke_ingest(client, body)
    [row] = _rows()
    assert row["filename"] == key  # the '+'-encoded key was decoded
    assert (row["title"], row["is_published"]) == ("Edited", True)  # editorial fields survive a re-probe
    assert (row["width"], row["height"], row["duration"], row["has_audio"]) == (1920, 1080, 3, True)


def test_reupload_under_same_key_refreshes_probed_fields(
    client: Any, media_bucket: str, media_files: MediaFiles
) -> None:
    key = "videos/0b/clip.mp4"
    upload(media_files.landscape, key)
    _invoke_ingest(client, s3_notification(media_bucket, key))
    upload(media_files.rotated, key)
    _invoke_ingest(client, s3_notification(media_bucket, key))
    [row] = _rows()
    assert (row["width"], row["height"], row["orientation"]) == (720, 1280, "V")
    assert row["file_size"] == media_files.rotated.stat().st_size


def test_non_video_and_foreign_events_are_dropped_without_rows(
    client: Any, media_bucket: str, media_files: MediaFiles
) -> None:
    upload(media_files.not_video, "videos/0c/notes.mp4")
    upload(media_files.landscape, "videos/0d/ok.mp4")
    bodies = [
        s3_notification(media_bucket, "videos/0c/notes.mp4"),  # not a video: dropped, not retried
        s3_notification(media_bucket, "videos/0e/deleted-since.mp4"),  # gone: dropped
        s3_notification("someone-elses-bucket", "videos/0d/ok.mp4"),
        s3_notification(media_bucket, "videos/0d/ok.mp4", event_name="ObjectRemoved:Delete"),
        '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"x"}',
        "not json",
    ]
    for body in bodies:
        _invoke_ingest(client, body)  # each returns normally: SQS deletes the message
    assert _rows() == []
    assert _keys("videos/0c/") == []  # the non-video is deleted: the bucket keeps no junk
    assert _keys("videos/0d/") == ["videos/0d/ok.mp4"]  # another bucket's event touches nothing
    assert [(f["key"], f["reason"][:22]) for f in _failures(client)] == [
        ("videos/0e/deleted-since.mp4", "The object was deleted"),
        ("videos/0c/notes.mp4", "The file is not a read"),
    ]


def test_unavailable_ffprobe_raises_so_sqs_retries(
    client: Any, media_bucket: str, media_files: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain.errors import ServiceUnavailable
    from chalicelib.functions.ingest import handle_notification

    upload(media_files.landscape, "videos/0f/a.mp4")
    monkeypatch.setenv("FFPROBE_PATH", "/missing/ffprobe")
    get_settings.cache_clear()
    with pytest.raises(ServiceUnavailable):
        handle_notification(s3_notification(media_bucket, "videos/0f/a.mp4"))
    assert _rows() == []


# --- synchronous ingest through POST /api/videos ----------------------------------------------


def test_post_filename_only_probes_synchronously(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    upload(media_files.rotated, "library/phone_clip.mp4")
    response = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "library/phone_clip.mp4"})
    )
    assert response.status_code == 201, response.body
    video = response.json_body
    assert (video["width"], video["height"], video["orientation"], video["quality"]) == (720, 1280, "V", "HD")
    assert video["hasAudio"] is True and video["duration"] == 2 and video["title"] == "phone clip"
    assert video["fileSize"] == media_files.rotated.stat().st_size
    again = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "library/phone_clip.mp4"})
    )
    assert again.status_code == 200 and again.json_body["id"] == video["id"]
    assert len(_rows()) == 1


@pytest.mark.parametrize(
    ("filename", "status"),
    [("library/notes.mp4", 422), ("library/missing.mp4", 404), ("../etc/passwd", 400), ("/abs.mp4", 400)],
)
def test_post_filename_only_errors_write_no_row(
    client: Any,
    admin_headers: dict[str, str],
    media_bucket: str,
    media_files: MediaFiles,
    filename: str,
    status: int,
) -> None:
    upload(media_files.not_video, "library/notes.mp4")
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body({"filename": filename}))
    assert response.status_code == status, response.body
    assert response.json_body["error"] and response.json_body["message"]
    assert _rows() == []


def test_post_filename_only_without_ffprobe_is_503(
    client: Any,
    admin_headers: dict[str, str],
    media_bucket: str,
    media_files: MediaFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upload(media_files.landscape, "library/a.mp4")
    monkeypatch.setenv("FFPROBE_PATH", "/missing/ffprobe")
    get_settings.cache_clear()
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body({"filename": "library/a.mp4"}))
    assert response.status_code == 503
    assert "ffprobe" in response.json_body["message"]
    assert _rows() == []


def test_full_metadata_path_still_registers_without_s3(client: Any, admin_headers: dict[str, str]) -> None:
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body(video_payload()))
    assert response.status_code == 201, response.body
    partial = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "x.mp4", "duration": 5})
    )
    assert partial.status_code == 400  # metadata given: the full schema applies
    assert "width" in partial.json_body["message"]


def _keys(prefix: str) -> list[str]:
    from chalicelib.adapters.aws import client as aws_client

    listed = aws_client("s3").list_objects_v2(Bucket=get_settings().media_bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def _failures(client: Any) -> list[dict[str, Any]]:
    from tests.support.api import token_for
    from tests.support.database import make_user

    admin = make_user(role="SUPER_ADMIN")
    response = client.http.get("/api/videos/ingest-failures", headers={"Authorization": f"Bearer {token_for(admin)}"})
    assert response.status_code == 200, response.body
    return list(response.json_body["failures"])


def test_a_refused_upload_is_listed_newest_first_and_its_object_deleted(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    upload(media_files.not_video, "videos/01/first.mp4")
    upload(media_files.image, "videos/02/still.mp4", content_type="image/png")
    for key in ("videos/01/first.mp4", "videos/02/still.mp4"):
        response = client.http.post("/api/videos", headers=admin_headers, body=json_body({"filename": key}))
        assert response.status_code == 422
    failures = _failures(client)
    assert [failure["key"] for failure in failures] == ["videos/02/still.mp4", "videos/01/first.mp4"]
    assert set(failures[0]) == {"key", "reason", "failedAt"} and failures[0]["failedAt"].endswith("Z")
    assert "no video stream" in failures[0]["reason"]
    assert _keys("videos/") == [] and _rows() == []


@pytest.mark.parametrize("key", ["thumbnails/01/poster.jpg", "other/clip.mp4", "videosX/clip.mp4", "clip.mp4"])
def test_ingest_never_deletes_an_object_outside_videos(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles, key: str
) -> None:
    """A poster frame (or any object outside the uploads' prefix) named for ingest is refused and kept."""
    upload(media_files.image, key, content_type="image/jpeg")
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body({"filename": key}))
    assert response.status_code == 422, response.body
    assert [failure["key"] for failure in _failures(client)] == [key]
    assert _keys(key) == [key] and _rows() == []


def test_a_probe_that_keeps_timing_out_is_refused_on_the_last_delivery_only(
    client: Any, media_bucket: str, media_files: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters import ffprobe
    from chalicelib.functions.ingest import handle_notification

    upload(media_files.landscape, "videos/0t/long.mp4")

    def too_slow(*args: Any, **kwargs: Any) -> Any:
        raise ffprobe.ProbeTimeout("ffprobe did not finish within 30 seconds")

    monkeypatch.setattr(ffprobe, "probe", too_slow)
    with pytest.raises(ffprobe.ProbeTimeout):
        handle_notification(s3_notification(media_bucket, "videos/0t/long.mp4"))  # retried by SQS
    assert _failures(client) == [] and _keys("videos/0t/") == ["videos/0t/long.mp4"]
    handle_notification(s3_notification(media_bucket, "videos/0t/long.mp4"), final_attempt=True)
    [failure] = _failures(client)
    assert failure["key"] == "videos/0t/long.mp4" and failure["reason"].startswith("Too long to probe")
    assert _keys("videos/0t/") == []


def test_probing_a_filename_stores_the_descriptive_fields_given(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    upload(media_files.landscape, "library/launch.mp4")
    fields = {
        "title": "Launch day",
        "producer": "Civic Media",
        "creator": "Ana",
        "thumbnailUrl": "https://x.test/t.png",
    }
    created = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "library/launch.mp4", **fields})
    )
    assert created.status_code == 201, created.body
    video = created.json_body
    assert {k: video[k] for k in fields} == fields and video["width"] == 1920
    renamed = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "library/launch.mp4", "title": "Launch"})
    )
    assert renamed.status_code == 200
    assert renamed.json_body["title"] == "Launch" and renamed.json_body["producer"] == "Civic Media"


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"filename": "library/a.mp4", "title": "   "}, 422, "title"),
        ({"filename": "library/a.mp4", "title": ""}, 422, "title"),
        ({"filename": "library/a.mp4", "tilte": "Typo"}, 400, "tilte"),
        ({"filename": "library/a.mp4", "thumbnailUrl": "javascript:alert(1)"}, 422, "thumbnailUrl"),
        (
            {"filename": "library/a.mp4", "duration": 5, "width": 2, "height": 2, "fileSize": 1, "colour": "red"},
            400,
            "colour",
        ),
    ],
)
def test_admin_bodies_are_strict(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any], status: int, named: str
) -> None:
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body(body))
    assert response.status_code == status, response.body
    assert named in response.json_body["message"]
    assert _rows() == []


def test_upload_url_refuses_unknown_fields(client: Any, admin_headers: dict[str, str], media_bucket: str) -> None:
    response = _upload_url(client, admin_headers, contentLength=5)
    assert response.status_code == 400 and "contentLength" in response.json_body["message"]
