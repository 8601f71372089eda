"""Delete means gone: DELETE removes the original, the poster frame, every rendition and the
pending schedules, and nothing that arrives late (a copy's notification, a retry, a result)
brings the video back. In-process moto for S3 and Scheduler, PostgreSQL for the rest."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.adapters.aws import client as aws_client
from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.functions.ingest import handle_notification
from chalicelib.services import media_removal, transcoding
from tests.support.api import json_body
from tests.support.media import s3_notification
from tests.support.scheduling import in_minutes, schedule


def objects() -> list[str]:
    listed = aws_client("s3").list_objects_v2(Bucket=get_settings().media_bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def put(key: str) -> None:
    aws_client("s3").put_object(Bucket=get_settings().media_bucket, Key=key, Body=b"bytes")


@pytest.fixture
def stored_video(create_video: Any, resources: dict[str, str]) -> dict[str, Any]:
    """A video with its original, poster frame and a ladder in the bucket."""
    video = create_video(published=True, filename="videos/abc/harbour.mp4")
    put("videos/abc/harbour.mp4")
    put("thumbnails/abc/harbour.jpg")
    put(f"renditions/{video['id']}/0123/360p.ts")
    put(f"renditions/{video['id']}/0123/720p.ts")
    put("videos/other/keep.mp4")
    with get_engine().begin() as connection:
        connection.execute(
            text("UPDATE videos SET thumbnail_key = 'thumbnails/abc/harbour.jpg' WHERE id = :i"), {"i": video["id"]}
        )
    return video


def tombstone(video_id: int) -> Any:
    with get_engine().begin() as connection:
        return connection.execute(text("SELECT * FROM video_tombstones WHERE video_id = :i"), {"i": video_id}).one()


def test_delete_removes_every_object_of_the_video_and_nothing_else(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any]
) -> None:
    assert client.http.delete(f"/api/videos/{stored_video['id']}", headers=admin_headers).status_code == 204
    assert objects() == ["videos/other/keep.mp4"]
    assert tombstone(stored_video["id"]).purged_at is not None
    assert client.http.get(f"/api/videos/{stored_video['id']}", headers=admin_headers).status_code == 404


def test_a_late_notification_of_a_deleted_videos_object_neither_ingests_it_nor_keeps_it(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any]
) -> None:
    assert client.http.delete(f"/api/videos/{stored_video['id']}", headers=admin_headers).status_code == 204
    put("videos/abc/harbour.mp4")  # the object lands again, as a copy finishing late would
    bucket = get_settings().media_bucket
    assert handle_notification(s3_notification(bucket, "videos/abc/harbour.mp4")) == []
    assert "videos/abc/harbour.mp4" not in objects()
    listed = client.http.get("/api/videos", headers=admin_headers).json_body
    assert listed["total"] == 0
    body = json_body({"filename": "videos/abc/harbour.mp4"})
    again = client.http.post("/api/videos", headers=admin_headers, body=body)
    assert again.status_code == 410 and again.json_body["error"] == "Gone"


def test_a_ladder_result_for_a_deleted_video_removes_its_own_files(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any]
) -> None:
    video_id = stored_video["id"]
    with get_engine().begin() as connection:
        connection.execute(text("UPDATE videos SET ladder_token = 'late' WHERE id = :i"), {"i": video_id})
    assert client.http.delete(f"/api/videos/{video_id}", headers=admin_headers).status_code == 204
    put(f"renditions/{video_id}/late/360p.ts")  # a transcode that outlived its video uploads, then records
    assert transcoding.record(video_id, "late", []) is False
    assert objects() == ["videos/other/keep.mp4"]


def test_media_s3_refused_to_delete_is_purged_by_the_sweep(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters import media_storage

    real_remove = media_storage.remove

    def refuse(keys: list[str]) -> None:
        raise ServiceUnavailable("S3 is down")

    monkeypatch.setattr(media_storage, "remove", refuse)
    assert client.http.delete(f"/api/videos/{stored_video['id']}", headers=admin_headers).status_code == 204
    assert "videos/abc/harbour.mp4" in objects()
    assert tombstone(stored_video["id"]).purged_at is None
    monkeypatch.setattr(media_storage, "remove", real_remove)
    assert media_removal.purge_pending() == 1
    assert objects() == ["videos/other/keep.mp4"]
    assert media_removal.purge_pending() == 0


def test_delete_cancels_the_videos_pending_schedules(
    client: Any, admin_headers: dict[str, str], stored_video: dict[str, Any], scheduler: Any
) -> None:
    video_id = stored_video["id"]
    unpublish = schedule(client, admin_headers, video_id, in_minutes(90), action="unpublish")
    assert unpublish.status_code == 200, unpublish.body
    group = get_settings().schedule_group_name
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    assert names == [f"video-{video_id}-unpublish"]
    assert client.http.delete(f"/api/videos/{video_id}", headers=admin_headers).status_code == 204
    assert scheduler.list_schedules(GroupName=group)["Schedules"] == []
