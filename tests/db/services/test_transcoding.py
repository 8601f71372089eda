"""The ladder's lifecycle with real ffmpeg and ffprobe over a moto S3 server and PostgreSQL:
made once, never above the source, idempotent, failures that say what to do, the backfill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.adapters.aws import client
from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from chalicelib.domain import hls
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.services import ingest, transcoding
from tests.support import clips
from tests.support.media import media_bucket_fixture, moto_endpoint_fixture, upload  # noqa: F401


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def small(clip_dir: Path) -> clips.Clip:
    return clips.silent(clip_dir, seconds=3, width=960, height=540)


@pytest.fixture(scope="module")
def rotated(clip_dir: Path) -> clips.Clip:
    return clips.rotated(clip_dir, seconds=3)


@pytest.fixture
def ladder_queue(media_bucket: str) -> str:
    name = get_settings().queue_name(transcoding.LADDER_QUEUE)
    return str(client("sqs").create_queue(QueueName=name)["QueueUrl"])


def row(video_id: int) -> Any:
    with get_engine().begin() as connection:
        return connection.execute(text("SELECT * FROM videos WHERE id = :i"), {"i": video_id}).one()


def keys(prefix: str = "") -> list[str]:
    listed = client("s3").list_objects_v2(Bucket=get_settings().media_bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def ingested(clip: clips.Clip, key: str) -> int:
    upload(clip.path, key)
    return ingest.ingest_object(key).video.id


def queued(queue_url: str) -> list[dict[str, Any]]:
    reply = client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in reply.get("Messages", [])]


def test_ingest_asks_for_a_ladder_and_ffmpeg_makes_every_rung_once(small: clips.Clip, ladder_queue: str) -> None:
    video_id = ingested(small, "videos/a/silent.mp4")
    assert queued(ladder_queue) == [{"videoId": video_id}]
    assert row(video_id).processing_status == "processing"

    assert transcoding.make_ladder(video_id) == "made"

    video = row(video_id)
    assert (video.processing_status, video.processing_error) == ("ready", None)
    with get_engine().begin() as connection:
        rungs = connection.execute(
            text("SELECT * FROM video_renditions WHERE video_id = :i ORDER BY bandwidth"), {"i": video_id}
        ).all()
    assert [(r.name, r.width, r.height) for r in rungs] == [("360p", 640, 360), ("540p", 960, 540)]
    assert all(r.codecs.startswith("avc1.64") and "mp4a" not in r.codecs for r in rungs)  # no audio, no AAC
    for rendition in rungs:
        playlist = hls.read_media_playlist(rendition.playlist)
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in rendition.playlist
        assert playlist.segment_count == 1 and playlist.uris == (f"{rendition.name}.ts",)
        assert rendition.media_prefix.startswith(f"renditions/{video_id}/")
        assert rendition.bandwidth == playlist.peak_bps and rendition.bandwidth > 0
    made = keys(f"renditions/{video_id}/")
    assert [key.rsplit("/", 1)[1] for key in made] == ["360p.ts", "540p.ts"]

    # The same message again (a re-delivery), or a second request: no second ladder.
    assert transcoding.make_ladder(video_id) == "skipped"
    assert keys(f"renditions/{video_id}/") == made


def test_rotation_is_applied_and_portrait_stays_portrait(rotated: clips.Clip, ladder_queue: str) -> None:
    video_id = ingested(rotated, "videos/b/rotated.mp4")
    assert transcoding.make_ladder(video_id) == "made"
    with get_engine().begin() as connection:
        sizes = connection.execute(
            text("SELECT width, height, codecs FROM video_renditions WHERE video_id = :i ORDER BY bandwidth"),
            {"i": video_id},
        ).all()
    assert [(w, h) for w, h, _ in sizes] == [(360, 640), (540, 960)]
    assert all(codecs.endswith(",mp4a.40.2") for _, _, codecs in sizes)


def test_a_video_too_long_for_ffmpeg_fails_saying_to_use_mediaconvert(
    small: clips.Clip, ladder_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    video_id = ingested(small, "videos/c/long.mp4")
    monkeypatch.setenv("VIDEO_FFMPEG_MAX_DURATION_SECONDS", "2")
    get_settings.cache_clear()
    assert transcoding.make_ladder(video_id) == "failed"
    video = row(video_id)
    assert video.processing_status == "failed"
    assert "Too long for the ffmpeg transcoder" in video.processing_error
    assert "VIDEO_TRANSCODER=mediaconvert" in video.processing_error
    assert keys("renditions/") == []


def test_a_missing_original_fails_saying_to_upload_again(small: clips.Clip, ladder_queue: str) -> None:
    video_id = ingested(small, "videos/d/gone.mp4")
    client("s3").delete_object(Bucket=get_settings().media_bucket, Key="videos/d/gone.mp4")
    assert transcoding.make_ladder(video_id) == "failed"
    assert "missing from the bucket: upload the video again" in row(video_id).processing_error


def test_trouble_is_retried_and_only_the_last_delivery_fails_the_video(
    small: clips.Clip, ladder_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    video_id = ingested(small, "videos/e/retry.mp4")
    monkeypatch.setenv("FFPROBE_PATH", "/nonexistent/ffprobe")
    get_settings.cache_clear()
    with pytest.raises(ServiceUnavailable):
        transcoding.make_ladder(video_id)
    assert row(video_id).processing_status == "processing"
    assert row(video_id).ladder_claimed_at is None  # the lease is given back: the retry may claim at once
    assert transcoding.make_ladder(video_id, final_attempt=True) == "failed"
    assert "kept failing" in row(video_id).processing_error


def test_a_late_result_of_a_superseded_attempt_removes_its_own_files(small: clips.Clip, ladder_queue: str) -> None:
    video_id = ingested(small, "videos/f/late.mp4")
    prefix = transcoding.attempt_prefix(video_id, "0123456789abcdef")
    client("s3").put_object(Bucket=get_settings().media_bucket, Key=prefix + "360p.ts", Body=b"x")
    assert transcoding.record(video_id, "0123456789abcdef", []) is False  # not the video's attempt
    assert keys(prefix) == []
    assert row(video_id).processing_status == "processing"


def test_the_backfill_asks_a_ladder_for_every_waiting_video_once_a_batch_at_a_time(ladder_queue: str) -> None:
    with get_engine().begin() as connection:
        ids = [
            connection.execute(
                text(
                    "INSERT INTO videos (filename, duration, file_size, width, height, orientation, quality) "
                    "VALUES (:f, 10, 1, 1280, 720, 'H', 'HD') RETURNING id"
                ),
                {"f": f"videos/old/{n}.mp4"},
            ).scalar_one()
            for n in range(3)
        ]
        connection.execute(text("UPDATE videos SET processing_status = 'ready' WHERE id = :i"), {"i": ids[2]})
    assert transcoding.request_waiting(limit=1) == 1
    assert transcoding.request_waiting() == 1  # resumes where it stopped
    assert transcoding.request_waiting() == 0
    assert sorted(message["videoId"] for message in queued(ladder_queue)) == ids[:2]
