"""Signed HLS delivery through the API: playbackUrl on every answer a caller may see, the master
and rung playlists behind it, every URI signed, and refusals for wrong, expired or gone."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from chalicelib.db.engine import get_engine
from chalicelib.services import playback
from tests.support.api import json_body

RUNG = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:6.000000,
#EXT-X-BYTERANGE:750000@0
{name}.ts
#EXTINF:2.000000,
#EXT-X-BYTERANGE:200000@750000
{name}.ts
#EXT-X-ENDLIST
"""


def make_ready(
    video_id: int, rungs: tuple[tuple[str, int, int], ...] = (("360p", 640, 360), ("720p", 1280, 720))
) -> None:
    with get_engine().begin() as connection:
        connection.execute(text("UPDATE videos SET processing_status = 'ready' WHERE id = :i"), {"i": video_id})
        for index, (name, width, height) in enumerate(rungs):
            connection.execute(
                text(
                    "INSERT INTO video_renditions (video_id, name, width, height, codecs, frame_rate, bandwidth, "
                    "average_bandwidth, media_prefix, playlist) VALUES (:v, :n, :w, :h, :c, 25, :b, :a, :p, :t)"
                ),
                {
                    "v": video_id, "n": name, "w": width, "h": height, "c": "avc1.64001f,mp4a.40.2",
                    "b": 1_000_000 * (index + 1), "a": 900_000 * (index + 1),
                    "p": f"renditions/{video_id}/abc/", "t": RUNG.format(name=name),
                },
            )  # fmt: skip


def signed_path(video_id: int, expires: int) -> str:
    return f"/api/playback/{video_id}/master.m3u8?expires={expires}&signature={playback.signature(video_id, expires)}"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_video_plays_its_original_until_its_ladder_is_ready(client: Any, create_video: Any) -> None:
    video = create_video(published=True)
    assert video["processingStatus"] == "processing"
    assert video["playbackUrl"] is None and video["playbackUrlExpiresAt"] is None
    assert video["streamUrl"]  # the original, meanwhile
    listed = client.http.get("/api/videos").json_body["videos"]
    assert [v["id"] for v in listed] == [video["id"]]  # published videos list as before


def test_a_ready_video_answers_a_signed_master_playlist_url_to_whoever_may_see_it(
    client: Any, create_video: Any, aws: None
) -> None:
    video = create_video(published=True)
    make_ready(video["id"])
    public = client.http.get(f"/api/videos/{video['id']}").json_body
    assert public["processingStatus"] == "ready"
    url = public["playbackUrl"]
    assert url.startswith(f"http://media.test/api/playback/{video['id']}/master.m3u8?expires=")
    query = parse_qs(urlsplit(url).query)
    assert public["playbackUrlExpiresAt"].startswith(time.strftime("%Y-", time.gmtime(int(query["expires"][0]))))

    master = client.http.get(path_of(url))
    assert master.status_code == 200
    assert master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    lines = master.body.decode().splitlines()
    assert lines[0] == "#EXTM3U"
    stream_infs = [line for line in lines if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(stream_infs) == 2
    for line in stream_infs:
        for attribute in ("BANDWIDTH=", "RESOLUTION=", 'CODECS="avc1.64001f,mp4a.40.2"', "FRAME-RATE=25.000"):
            assert attribute in line
    variants = [line for line in lines if line and not line.startswith("#")]
    assert [v.split("?")[0] for v in variants] == ["360p.m3u8", "720p.m3u8"]  # lowest first, relative
    assert all(f"signature={query['signature'][0]}" in v for v in variants)

    rung = client.http.get(f"/api/playback/{video['id']}/{variants[0]}")
    assert rung.status_code == 200
    body = rung.body.decode()
    media = [line for line in body.splitlines() if line and not line.startswith("#")]
    assert len(media) == 2 and len(set(media)) == 1  # one file, read by byte ranges, signed once
    assert media[0].startswith("https://") or media[0].startswith("http")
    assert f"/renditions/{video['id']}/abc/360p.ts?" in media[0] and "X-Amz-Signature=" in media[0]
    assert "#EXT-X-BYTERANGE:750000@0" in body and body.rstrip().endswith("#EXT-X-ENDLIST")


def test_unpublished_videos_play_for_admins_and_preview_links_only(
    client: Any, create_video: Any, admin_headers: dict[str, str], aws: None
) -> None:
    video = create_video(published=False)
    make_ready(video["id"])
    assert client.http.get(f"/api/videos/{video['id']}").status_code == 404
    admin = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body
    assert admin["playbackUrl"]
    link = client.http.get(f"/api/videos/{video['id']}/preview-link", headers=admin_headers).json_body
    token = link["previewUrl"].rsplit("/", 1)[1]
    preview = client.http.get(f"/api/videos/preview/{token}").json_body
    assert client.http.get(path_of(preview["playbackUrl"])).status_code == 200


@pytest.mark.parametrize("tamper", ["signature", "video", "expires"])
def test_a_playlist_url_that_was_not_signed_for_it_is_refused(
    client: Any, create_video: Any, aws: None, tamper: str
) -> None:
    video = create_video(published=True)
    other = create_video(published=True)
    for v in (video, other):
        make_ready(v["id"])
    url = client.http.get(f"/api/videos/{video['id']}").json_body["playbackUrl"]
    path = path_of(url)
    if tamper == "signature":
        path = path.replace("signature=", "signature=A")
    elif tamper == "video":
        path = path.replace(f"/playback/{video['id']}/", f"/playback/{other['id']}/")
    else:
        expires = parse_qs(urlsplit(url).query)["expires"][0]
        path = path.replace(f"expires={expires}", f"expires={int(expires) + 300}")
    answer = client.http.get(path)
    assert answer.status_code == 403, answer.body
    assert answer.json_body["error"] == "Forbidden"


def test_an_expired_playlist_url_is_refused(client: Any, create_video: Any, aws: None) -> None:
    video = create_video(published=True)
    make_ready(video["id"])
    expires = int(time.time()) - 1
    path = signed_path(video["id"], expires)
    answer = client.http.get(path)
    assert answer.status_code == 403 and "expired" in answer.json_body["message"]


def test_unsigned_malformed_unknown_and_deleted_playlists(
    client: Any, create_video: Any, admin_headers: dict[str, str], aws: None
) -> None:
    video = create_video(published=True)
    make_ready(video["id"])
    url = path_of(client.http.get(f"/api/videos/{video['id']}").json_body["playbackUrl"])
    assert client.http.get(f"/api/playback/{video['id']}/master.m3u8").status_code == 400  # no signature at all
    assert client.http.get(url.replace("master.m3u8", "passwd.m3u8")).status_code == 404
    assert client.http.get(url.replace("master.m3u8", "1080p.m3u8")).status_code == 404  # no such rung
    assert client.http.get(url.replace("master.m3u8", "master.mp4")).status_code == 404
    assert client.http.delete(f"/api/videos/{video['id']}", headers=admin_headers).status_code == 204
    assert client.http.get(url).status_code == 404


def test_a_video_that_is_not_ready_has_no_playlists(client: Any, create_video: Any, aws: None) -> None:
    video = create_video(published=True)
    expires = int(time.time()) + 600
    path = signed_path(video["id"], expires)
    assert client.http.get(path).status_code == 404


def test_the_playlist_answers_cors_for_an_allowed_origin_only(
    client: Any, create_video: Any, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example")
    get_settings.cache_clear()
    video = create_video(published=True)
    make_ready(video["id"])
    path = path_of(client.http.get(f"/api/videos/{video['id']}").json_body["playbackUrl"])
    allowed = client.http.get(path, headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.http.get(path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_failed_ladder_says_why_on_the_admin_answer(
    client: Any, create_video: Any, admin_headers: dict[str, str]
) -> None:
    video = create_video()
    with get_engine().begin() as connection:
        connection.execute(
            text("UPDATE videos SET processing_status = 'failed', processing_error = 'Too long', processed_at = now() "
                 "WHERE id = :i"),
            {"i": video["id"]},
        )  # fmt: skip
    answer = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body
    assert (answer["processingStatus"], answer["processingError"], answer["playbackUrl"]) == (
        "failed",
        "Too long",
        None,
    )
    listed = client.http.get("/api/videos/processing-failures", headers=admin_headers).json_body
    assert [(f["videoId"], f["reason"]) for f in listed["failures"]] == [(video["id"], "Too long")]
    assert listed["failures"][0]["failedAt"]
    assert client.http.get("/api/videos/processing-failures").status_code == 401


def test_duplicating_a_video_asks_a_ladder_for_the_copy(
    client: Any, create_video: Any, admin_headers: dict[str, str], aws: None
) -> None:
    from chalicelib.adapters.aws import client as aws_client
    from chalicelib.config import get_settings

    settings = get_settings()
    s3, sqs = aws_client("s3"), aws_client("sqs")
    s3.create_bucket(Bucket=settings.media_bucket)
    queue = sqs.create_queue(QueueName=settings.queue_name("ladder"))["QueueUrl"]
    video = create_video()
    s3.put_object(Bucket=settings.media_bucket, Key=video["filename"], Body=b"video")
    make_ready(video["id"])
    copy = client.http.post(f"/api/videos/{video['id']}/duplicate", headers=admin_headers, body=json_body({}))
    assert copy.status_code == 201, copy.body
    assert copy.json_body["processingStatus"] == "processing" and copy.json_body["playbackUrl"] is None
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in messages] == [f'{{"videoId": {copy.json_body["id"]}}}']
