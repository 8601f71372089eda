"""Adaptive playback as a frontend does it, over real HTTP in headless Chromium with hls.js.

A phone's HEVC clip (which Chromium cannot decode), a portrait H.264 clip and a clip without
audio are uploaded to LocalStack's S3, ingested, and given their ladder by the real
``make_video_ladder`` handler (ffmpeg). A page on an allowed origin then loads hls.js from
the API, asks the local server for the video, plays its ``playbackUrl`` (readyState >= 3,
currentTime advancing), switches to the lowest rung (``hls.currentLevel = 0``) and seeks.
Every playlist comes from the API and every segment from the bucket through a presigned URL,
by byte ranges (206), with the bucket's CORS answering the page's origin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.config import get_settings
from tests.support import clips
from tests.support.api import json_body
from tests.support.browser import ConsoleErrors, chromium
from tests.support.clips import isolate
from tests.support.env import BASE_ENV
from tests.support.hls import PRELUDE, WAIT_MS, frontend_site
from tests.support.local_server import LocalServer, local_server
from tests.support.media import upload
from tests.support.scheduling import use_resources

PLAY = (
    "async ({api, id, wait}) => {"
    + PRELUDE
    + """
    const answer = await (await fetch(api + "/api/videos/" + id)).json();
    const video = document.createElement("video");
    video.muted = true;
    document.getElementById("player").appendChild(video);
    const hls = new Hls();
    const buffered = [];
    let fatal = null;
    hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) fatal = data.type + ":" + data.details; });
    hls.on(Hls.Events.FRAG_BUFFERED, (_event, data) => buffered.push(data.frag.level));
    const levels = await new Promise(resolve => {
        hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
            hls.startLevel = data.levels.length - 1;  // start at the top, so switching down is a real switch
            resolve(data.levels.map(level => [level.width, level.height, level.bitrate, level.codecSet || ""]));
        });
        hls.loadSource(answer.playbackUrl);
        hls.attachMedia(video);
    });
    await video.play();
    await until(() => fatal || (video.readyState >= 3 && video.currentTime > 0.3), "playback");
    if (fatal) throw new Error(fatal);
    const playedFrom = video.currentTime;
    await until(() => video.currentTime > playedFrom + 0.5, "currentTime to advance");
    const firstLevel = buffered[0];
    const switchedAt = buffered.length;
    hls.currentLevel = 0;
    await until(() => fatal || (hls.currentLevel === 0 && buffered.slice(switchedAt).includes(0)
                                || levels.length === 1), "the lowest rung");
    const afterSwitch = video.currentTime;
    await until(() => video.currentTime > afterSwitch + 0.3, "playback on the lowest rung");
    const target = Math.max(0, video.duration - 2.5);
    const seeked = new Promise(resolve => video.addEventListener("seeked", resolve, {once: true}));
    video.currentTime = target;
    await seeked;
    await until(() => fatal || (video.readyState >= 3 && video.currentTime > target + 0.2), "playback after the seek");
    if (fatal) throw new Error(fatal);
    return {levels, firstLevel, level: hls.currentLevel, size: [video.videoWidth, video.videoHeight],
            duration: video.duration, target, position: video.currentTime, readyState: video.readyState,
            status: answer.processingStatus};
}"""
)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hls-clips")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    with frontend_site(tmp_path) as origin:
        yield origin


@pytest.fixture
def api(
    site: str, database_url: str, localstack: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[LocalServer]:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", site)  # the bucket's CORS too (scripts/local_aws.py)
    isolate(monkeypatch)
    aws = use_resources(monkeypatch, require_endpoint=True)
    env = {**os.environ, **BASE_ENV, **aws, "DATABASE_URL": database_url, "CORS_ALLOWED_ORIGINS": site}
    with local_server(env, log=tmp_path / "server.log", own_url=True) as server:
        monkeypatch.setenv("MEDIA_API_URL", server.base)
        get_settings.cache_clear()
        yield server


def ready_video(client: Any, headers: dict[str, str], clip: clips.Clip) -> dict[str, Any]:
    """Uploaded, ingested, its ladder made by the ladder function from its queue, published."""
    from scripts.local_dispatcher import dispatch_queue

    key = f"videos/hls/{clip.path.name}"
    upload(clip.path, key)
    created = client.http.post("/api/videos", headers=headers, body=json_body({"filename": key}))
    assert created.status_code == 201, created.body
    assert created.json_body["processingStatus"] == "processing"
    assert dispatch_queue(get_settings().queue_name("ladder"), "make_video_ladder") == 1
    video_id = created.json_body["id"]
    published = client.http.patch(f"/api/videos/{video_id}", headers=headers, body=json_body({"isPublished": True}))
    assert published.json_body["processingStatus"] == "ready", published.json_body
    return dict(published.json_body)


@pytest.mark.parametrize("kind", ["hevc", "portrait", "silent"])
def test_each_kind_of_upload_plays_adaptively_switches_down_and_seeks_from_an_allowed_origin(
    kind: str, api: LocalServer, site: str, client: Any, admin_headers: dict[str, str], clip_dir: Path
) -> None:
    clip = {"hevc": clips.hevc, "portrait": clips.portrait, "silent": clips.silent}[kind](clip_dir)
    video = ready_video(client, admin_headers, clip)
    errors = ConsoleErrors()
    media: list[tuple[str, int, str | None]] = []
    playlists: list[tuple[str, int]] = []
    with chromium() as browser:
        page = errors.watch(browser.new_page())

        def on_response(response: Any) -> None:
            url = response.url
            if "/renditions/" in url:
                media.append((url, response.status, response.request.headers.get("range")))
            elif "/api/playback/" in url:
                playlists.append((url, response.status))

        page.on("response", on_response)
        page.goto(f"{site}/index.html")
        played = page.evaluate(PLAY, {"api": api.base, "id": video["id"], "wait": WAIT_MS})
    rungs = {"hevc": 3, "portrait": 3, "silent": 1}[kind]
    assert played["status"] == "ready" and len(played["levels"]) == rungs
    for width, height, _bitrate, _codecs in played["levels"]:  # never above the source, its shape kept
        assert width <= clip.width and height <= clip.height
        assert abs(width / height - clip.width / clip.height) < 0.02
    assert played["levels"][-1][:2] == [clip.width, clip.height]
    assert played["firstLevel"] == rungs - 1 and played["level"] == 0
    assert played["readyState"] >= 3 and played["position"] > played["target"]
    assert abs(played["duration"] - clip.seconds) < 0.5
    assert played["size"] == played["levels"][0][:2]  # the lowest rung is what plays after the switch
    assert playlists and all(status == 200 for _, status in playlists)
    assert any("/master.m3u8?" in url for url, _ in playlists)
    assert media, "no segment was fetched"
    for url, status, byte_range in media:  # every byte from a signed URL, by byte ranges
        assert "X-Amz-Signature=" in url and f"/renditions/{video['id']}/" in url
        assert status == 206 and byte_range and byte_range.startswith("bytes=")
    assert errors == []
