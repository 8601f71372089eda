"""`make dev` keeps its media across a restart, and stops cleanly.

A real `make dev` (its own data directory, a database of its own on the test server, ports
4720-4721) gets a video uploaded the way the frontend uploads one and waits for its ladder; it
is stopped with `make stop` (exit 0, its state directory kept), started again, and the same
video still plays: headless Chromium plays its ``playbackUrl`` with hls.js from a page on an
allowed origin (every playlist from the API, every rendition byte from the restored bucket),
its stream URL answers a Range request with the uploaded bytes and its thumbnail is there.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import dev_process
from tests.support.dev_process import ROOT, dev_environment, fetch, running_dev, token, wait_until
from tests.support.hls import frontend_site, play
from tests.support.media import _ffmpeg

PORT = 4720


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """The frontend's origin, the same before and after the restart."""
    folder = tmp_path / "site"
    folder.mkdir()
    with frontend_site(folder) as origin:
        yield origin


@pytest.fixture
def dev_env(database_url: str, tmp_path: Path, site: str) -> Iterator[dict[str, str]]:
    # The frontend's origin is allowed by the API's answers and the bucket's CORS alike.
    with dev_environment(database_url, tmp_path / "data", PORT, "media_devloop", CORS_ALLOWED_ORIGINS=site) as env:
        yield env


def api(method: str, path: str, token_value: str, body: Any = None) -> Any:
    return dev_process.api(PORT, method, path, token_value, body)


def upload(token_value: str, clip: Path) -> str:
    data = clip.read_bytes()
    ticket = api("POST", "/api/videos/upload-url", token_value, {"filename": "restart.mp4", "contentType": "video/mp4",
                                                               "fileSize": len(data)})  # fmt: skip
    put = urllib.request.Request(ticket["uploadUrl"], data=data, method="PUT", headers=ticket["headers"])
    with urllib.request.urlopen(put, timeout=30) as reply:
        assert reply.status == 200
    return str(ticket["key"])


def video_of(token_value: str, key: str) -> dict[str, Any] | None:
    """The video of ``key`` once it is ingested, has its thumbnail and its ladder is ready."""
    listing = api("GET", "/api/videos?limit=100", token_value)
    found = [video for video in listing["videos"] if video["filename"] == key]
    if found and found[0]["processingStatus"] == "failed":
        raise AssertionError(f"the ladder failed: {found[0]['processingError']}")
    ready = found and found[0].get("thumbnailUrl") and found[0]["processingStatus"] == "ready"
    return found[0] if ready else None


def test_a_video_uploaded_under_make_dev_plays_after_a_restart(
    dev_env: dict[str, str], site: str, tmp_path: Path
) -> None:
    clip = tmp_path / "restart.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=6", "-f", "lavfi", "-i", "sine=duration=6",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip),
    )  # fmt: skip
    log = tmp_path / "make-dev.log"
    with running_dev(dev_env, log) as first:
        key = upload(token(dev_env), clip)
        before = wait_until(lambda: video_of(token(dev_env), key), "the upload is ingested, thumbnailed and ready")
        mirrored = Path(dev_env["MEDIA_API_DATA_DIR"]) / "s3"
        wait_until(lambda: len(list(mirrored.rglob("*.jpg"))) >= 1, "the thumbnail is mirrored")
        stopped = subprocess.run(["make", "-s", "stop"], check=False, cwd=ROOT, env=dev_env, capture_output=True)
        assert stopped.returncode == 0, stopped.stderr
        assert first.wait(timeout=60) == 0  # SIGTERM: a clean exit, no "Error 241"

    with running_dev(dev_env, log):
        after = wait_until(lambda: video_of(token(dev_env), key), "the video is listed again")
        played = play(site, f"http://127.0.0.1:{PORT}", after["playbackUrl"])
        status, _, head = fetch(after["streamUrl"], {"Range": "bytes=0-99"})
        thumb_status, thumb_type, thumbnail = fetch(after["thumbnailUrl"])
        subprocess.run(["make", "-s", "stop"], cwd=ROOT, env=dev_env, check=True, timeout=120)

    assert after["id"] == before["id"]
    assert played.state["readyState"] >= 3 and played.state["position"] > played.state["playedFrom"] + 0.5
    assert played.state["levels"] == [[320, 180]] and played.state["size"] == [320, 180]
    assert any("/master.m3u8?" in url for url, _ in played.playlists)
    assert played.playlists and all(code == 200 for _, code in played.playlists)
    assert played.media and all(code in (200, 206) for _, code in played.media)  # the restored renditions
    assert all(f"/renditions/{after['id']}/" in url and "X-Amz-Signature=" in url for url, _ in played.media)
    assert played.errors == []
    assert (status, head) == (206, clip.read_bytes()[:100])
    assert (thumb_status, thumb_type) == (200, "image/jpeg") and thumbnail[:2] == b"\xff\xd8"
    assert "media objects restored into the emulator" in log.read_text()
    assert json.loads((Path(dev_env["MEDIA_API_DATA_DIR"]) / "s3" / "media-api-videos" / "index.json").read_text())
