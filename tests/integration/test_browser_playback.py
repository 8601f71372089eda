"""Playback as a frontend does it: a page on another origin, in headless Chromium, lists the
published videos from the local server, plays one through its ``streamUrl`` (LocalStack S3
behind a presigned URL), seeks (the browser's Range request answered 206), and shows the
poster frame made at ingest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.config import get_settings
from tests.support.api import json_body
from tests.support.browser import ConsoleErrors, chromium, static_site
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, local_server
from tests.support.media import MediaFiles, upload
from tests.support.scheduling import use_resources

PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>frontend</title>
<h1>Videos</h1><ul id="library"></ul><div id="player"></div>"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "index.html").write_text(PAGE)
    with static_site(tmp_path) as origin:
        yield origin


@pytest.fixture
def api(
    site: str, database_url: str, localstack: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[LocalServer]:
    aws = use_resources(monkeypatch, require_endpoint=True)
    env = {**os.environ, **BASE_ENV, **aws, "DATABASE_URL": database_url, "CORS_ALLOWED_ORIGINS": site}
    with local_server(env, log=tmp_path / "server.log") as server:
        yield server


def published_video(client: Any, headers: dict[str, str], media_files: MediaFiles) -> dict[str, Any]:
    """Uploaded, probed, given its poster frame by the thumbnail function, published."""
    from scripts.local_dispatcher import dispatch_queue

    upload(media_files.landscape, "videos/pb/harbour.mp4")
    created = client.http.post(
        "/api/videos", headers=headers, body=json_body({"filename": "videos/pb/harbour.mp4", "title": "Harbour"})
    )
    assert created.status_code == 201, created.body
    assert dispatch_queue(get_settings().queue_name("thumbnails"), "make_video_thumbnail") == 1
    video = created.json_body
    client.http.patch(f"/api/videos/{video['id']}", headers=headers, body=json_body({"isPublished": True}))
    return dict(video)


def test_a_page_on_another_origin_lists_plays_seeks_and_shows_the_thumbnail(
    api: LocalServer, site: str, client: Any, admin_headers: dict[str, str], media_files: MediaFiles
) -> None:
    video = published_video(client, admin_headers, media_files)
    errors = ConsoleErrors()
    media_statuses: list[tuple[str, int, str | None]] = []
    with chromium() as browser:
        page = errors.watch(browser.new_page())

        def on_response(response: Any) -> None:
            if "videos/pb/harbour.mp4" in response.url and "X-Amz-Signature" in response.url:
                media_statuses.append((response.request.method, response.status, response.request.headers.get("range")))

        page.on("response", on_response)
        page.goto(f"{site}/index.html")
        shown = page.evaluate(
            """async ({api}) => {
                const answer = await (await fetch(api + "/api/videos")).json();
                const list = document.getElementById("library");
                for (const v of answer.videos) {
                    const item = document.createElement("li");
                    item.textContent = v.title;
                    list.appendChild(item);
                }
                const chosen = answer.videos[0];
                const poster = new Image();
                poster.src = chosen.thumbnailUrl;
                await poster.decode();
                document.getElementById("player").appendChild(poster);
                const player = document.createElement("video");
                player.muted = true;
                player.src = chosen.streamUrl;
                document.getElementById("player").appendChild(player);
                await player.play();
                await new Promise(resolve => setTimeout(resolve, 300));
                const seeked = new Promise(resolve => player.addEventListener("seeked", resolve, {once: true}));
                player.currentTime = 2.2;
                await seeked;
                return {titles: answer.videos.map(v => v.title), id: chosen.id, duration: player.duration,
                        position: player.currentTime, poster: [poster.naturalWidth, poster.naturalHeight],
                        size: [player.videoWidth, player.videoHeight]};
            }""",
            {"api": api.base},
        )
        assert page.inner_text("#library") == "Harbour"
    assert shown["titles"] == ["Harbour"] and shown["id"] == video["id"]
    assert shown["size"] == [1920, 1080] and abs(shown["duration"] - 3) < 0.2
    assert shown["position"] >= 2.0
    assert shown["poster"] == [1280, 720]  # the clip's 16:9, at most 1280 wide
    assert [status for _, status, _ in media_statuses if status == 206], media_statuses  # ranges: the seek works
    assert all(status in (200, 206) for _, status, _ in media_statuses)
    assert errors == []
