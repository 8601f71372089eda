"""Thumbnails made at ingest, with real ffmpeg on generated clips read over presigned URLs
from a moto S3 server, through the same queue and function the deployed stack uses."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from tests.support.api import json_body
from tests.support.media import MediaFiles, upload


def ingest(client: Any, headers: dict[str, str], path: Path, key: str, **fields: Any) -> dict[str, Any]:
    upload(path, key)
    response = client.http.post("/api/videos", headers=headers, body=json_body({"filename": key, **fields}))
    assert response.status_code == 201, response.body
    return response.json_body


def run_thumbnail_queue() -> int:
    """What Lambda's event source mapping does with the thumbnail queue (the local dispatcher's code)."""
    from scripts.local_dispatcher import dispatch_queue

    handled = 0
    while True:
        done = dispatch_queue(get_settings().queue_name("thumbnails"), "make_video_thumbnail")
        if done == 0:
            return handled
        handled += done


def image_size(data: bytes, tmp_path: Path) -> tuple[int, int]:
    image = tmp_path / "poster.jpg"
    image.write_bytes(data)
    output = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", str(image)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    [stream] = json.loads(output)["streams"]
    assert stream["codec_name"] == "mjpeg"
    return int(stream["width"]), int(stream["height"])


def fetch(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.headers["Content-Type"]), response.read()


def thumbnail_objects() -> list[str]:
    from chalicelib.adapters.aws import client

    listed = client("s3").list_objects_v2(Bucket=get_settings().media_bucket, Prefix="thumbnails/")
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.mark.parametrize(
    ("clip", "size"),
    [
        ("landscape", (1280, 720)),  # 1920x1080 scaled to 1280 on the long side
        ("portrait", (720, 1280)),  # 720x1280 already fits: never upscaled
        ("rotated", (720, 1280)),  # 1280x720 encoded, shown rotated: the phone's portrait
    ],
)
def test_each_ingested_clip_gets_a_poster_frame_with_its_aspect_ratio(
    client: Any,
    admin_headers: dict[str, str],
    media_bucket: str,
    media_files: MediaFiles,
    tmp_path: Path,
    clip: str,
    size: tuple[int, int],
) -> None:
    video = ingest(client, admin_headers, getattr(media_files, clip), f"videos/{clip}/{clip}.mp4")
    assert video["thumbnailUrl"] is None  # made in the background
    assert run_thumbnail_queue() == 1

    shown = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body
    content_type, data = fetch(shown["thumbnailUrl"])
    assert content_type == "image/jpeg"
    assert image_size(data, tmp_path) == size
    assert thumbnail_objects() == [f"thumbnails/{clip}/{clip}.jpg"]


def test_a_black_opening_is_skipped_for_a_lit_frame(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    from chalicelib.adapters import ffmpeg, media_storage

    video = ingest(client, admin_headers, media_files.black_start, "videos/bs/black-start.mp4")
    url = media_storage.presigned_get("videos/bs/black-start.mp4", 120)
    assert ffmpeg.frame_at(url, 0.6) is not None and ffmpeg.frame_at(url, 0.6).luma < ffmpeg.BLACK_LUMA  # type: ignore[union-attr]
    frame = ffmpeg.poster_frame(url, video["duration"])
    assert frame.luma >= ffmpeg.BLACK_LUMA and frame.at_seconds > 2


def test_redelivery_makes_no_second_thumbnail(
    client: Any,
    admin_headers: dict[str, str],
    media_bucket: str,
    media_files: MediaFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.adapters import ffmpeg
    from chalicelib.services import thumbnails

    video = ingest(client, admin_headers, media_files.portrait, "videos/p/p.mp4")
    again = client.http.post("/api/videos", headers=admin_headers, body=json_body({"filename": "videos/p/p.mp4"}))
    assert again.status_code == 200  # re-probed: another thumbnail request is queued
    first = thumbnails.make_thumbnail(video["id"])

    def no_second_frame(*args: Any) -> Any:
        raise AssertionError("ffmpeg ran again for a video that has its thumbnail")

    monkeypatch.setattr(ffmpeg, "poster_frame", no_second_frame)
    assert run_thumbnail_queue() == 2  # both queued requests are handled, neither makes a frame
    assert thumbnails.make_thumbnail(video["id"]) == first
    assert thumbnail_objects() == [first]


def test_an_admin_set_thumbnail_url_is_kept_as_given(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    external = "https://images.example.test/poster.png"
    video = ingest(client, admin_headers, media_files.landscape, "videos/l/l.mp4", thumbnailUrl=external)
    run_thumbnail_queue()
    shown = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body
    assert shown["thumbnailUrl"] == external
    cleared = client.http.patch(
        f"/api/videos/{video['id']}", headers=admin_headers, body=json_body({"thumbnailUrl": None})
    ).json_body
    assert cleared["thumbnailUrl"].startswith(get_settings().aws_endpoint_url)  # the generated one, signed


def test_a_video_whose_frames_cannot_be_decoded_gets_none_and_is_not_retried(
    client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles
) -> None:
    from chalicelib.services import thumbnails

    video = ingest(client, admin_headers, media_files.landscape, "videos/x/x.mp4")
    upload(media_files.not_video, "videos/x/x.mp4")  # replaced behind the service's back
    assert thumbnails.make_thumbnail(video["id"]) is None
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT thumbnail_key FROM videos")).scalar_one() is None


def test_a_deleted_video_or_a_foreign_message_is_dropped(media_bucket: str) -> None:
    from chalicelib.services import thumbnails

    assert thumbnails.make_thumbnail(424242) is None
    assert thumbnails.video_ids_in("not json") == []
    assert thumbnails.video_ids_in('{"videoId": "7"}') == []
    assert thumbnails.video_ids_in('{"videoId": true}') == []
    assert thumbnails.video_ids_in('{"videoId": 7}') == [7]
