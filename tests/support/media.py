"""Real media for the ingest tests, generated with ffmpeg (lavfi test sources).

Each clip is small (a couple of seconds) so the suite stays fast, but it is a
real H.264/AAC MP4 that ffprobe reads like any upload.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class MediaFiles:
    landscape: Path  # 1920x1080, 3 s, with audio
    portrait: Path  # 720x1280, 2 s, no audio
    rotated: Path  # 1280x720 encoded, display matrix says 90°: a portrait phone clip
    not_video: Path  # a text file named .mp4
    image: Path  # a PNG still
    black_start: Path  # 640x360, 6 s: 2 s of black, then the test picture


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def clips_in(directory: Path) -> MediaFiles:
    return MediaFiles(
        landscape=directory / "landscape.mp4",
        portrait=directory / "portrait.mp4",
        rotated=directory / "phone-rotated.mp4",
        not_video=directory / "notes.mp4",
        image=directory / "still.png",
        black_start=directory / "black-start.mp4",
    )


def generate(directory: Path) -> MediaFiles:
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is required to generate test media (apt-get install ffmpeg)")
    directory.mkdir(parents=True, exist_ok=True)
    files = clips_in(directory)
    video = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=1920x1080:rate=25:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        *video, "-c:a", "aac", "-shortest", str(files.landscape),
    )  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=720x1280:rate=25:duration=2", *video, "-an", str(files.portrait))
    plain = directory / "phone-raw.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=220:duration=2",
        *video, "-c:a", "aac", "-shortest", str(plain),
    )  # fmt: skip
    # Stream copy with a rotate tag writes a display matrix, as phones do.
    _ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(files.rotated))
    files.not_video.write_text("These are meeting notes, not a video.\n" * 20)
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=640x480", "-frames:v", "1", str(files.image))
    _ffmpeg(
        "-f", "lavfi", "-i", "color=black:size=640x360:rate=25:duration=2",
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=4",
        "-filter_complex", "[0][1]concat=n=2:v=1", *video, str(files.black_start),
    )  # fmt: skip
    return files


@pytest.fixture(scope="session", name="media_files")
def media_files_fixture(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    """The clips, made once per run: xdist workers share one directory, the first one makes them."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "media"
    shared.mkdir(exist_ok=True)
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / ".made"
        files = generate(shared) if not done.exists() else clips_in(shared)
        done.touch()
    return files


@pytest.fixture(scope="session", name="moto_endpoint")
def moto_endpoint_fixture() -> Iterator[str]:
    """A moto server on loopback: ffprobe is a separate process, so it needs real HTTP to read presigned URLs."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(name="media_bucket")
def media_bucket_fixture(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's AWS clients on the moto server, its state reset, and an empty media bucket; yields the name."""
    from chalicelib.adapters.aws import client, reset_clients
    from chalicelib.config import get_settings

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    get_settings.cache_clear()
    reset_clients()
    bucket = get_settings().media_bucket
    client("s3").create_bucket(Bucket=bucket)
    client("sqs").create_queue(QueueName=get_settings().queue_name("thumbnails"))  # ingest asks for thumbnails
    yield bucket
    reset_clients()


def upload(path: Path, key: str, content_type: str = "video/mp4") -> None:
    from chalicelib.adapters.aws import client
    from chalicelib.config import get_settings

    client("s3").put_object(
        Bucket=get_settings().media_bucket, Key=key, Body=path.read_bytes(), ContentType=content_type
    )


def s3_notification(bucket: str, key: str, event_name: str = "ObjectCreated:Put") -> str:
    """The body S3 sends to SQS for one object (keys URL-encoded, spaces as '+')."""
    import json
    from urllib.parse import quote_plus

    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": event_name,
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/"), "size": 1}},
    }
    return json.dumps({"Records": [record]})


def upload_through_api(client: Any, admin_headers: dict[str, str], data: bytes, filename: str) -> dict[str, Any]:
    """What the frontend does: ask the API for a presigned PUT, then upload to it. Returns the ticket."""
    import json

    response = client.http.post(
        "/api/videos/upload-url",
        headers=admin_headers,
        body=json.dumps({"filename": filename, "contentType": "video/mp4", "fileSize": len(data)}).encode(),
    )
    assert response.status_code == 200, response.body
    ticket: dict[str, Any] = response.json_body
    request = urllib.request.Request(ticket["uploadUrl"], data=data, method="PUT", headers=ticket["headers"])
    with urllib.request.urlopen(request, timeout=20) as reply:
        assert reply.status == 200
    return ticket
