"""FFprobe service on real generated media, over a real HTTP presigned URL too."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from chalicelib.adapters import ffprobe, media_storage
from chalicelib.config import get_settings
from chalicelib.domain.errors import ServiceUnavailable, Unprocessable
from tests.support.media import MediaFiles, upload


def test_landscape_with_audio(media_files: MediaFiles) -> None:
    meta = ffprobe.probe(str(media_files.landscape))
    assert meta.as_json() == {
        "duration": 3,
        "width": 1920,
        "height": 1080,
        "orientation": "H",
        "quality": "FHD",
        "hasAudio": True,
    }


def test_portrait_without_audio(media_files: MediaFiles) -> None:
    meta = ffprobe.probe(str(media_files.portrait))
    assert (meta.width, meta.height, meta.orientation, meta.quality, meta.has_audio, meta.duration) == (
        720,
        1280,
        "V",
        "HD",
        False,
        2,
    )


def test_rotated_phone_clip_is_portrait(media_files: MediaFiles) -> None:
    """Encoded 1280x720 with a 90° display matrix: displayed (and stored) as 720x1280, V."""
    raw = ffprobe.run_ffprobe(str(media_files.rotated))
    video = next(s for s in raw["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (1280, 720)
    assert abs(ffprobe.rotation_degrees(video)) == 90
    meta = ffprobe.probe(str(media_files.rotated))
    assert (meta.width, meta.height, meta.orientation, meta.has_audio) == (720, 1280, "V", True)


def test_text_file_named_mp4_is_422(media_files: MediaFiles) -> None:
    with pytest.raises(Unprocessable, match="not a readable video"):
        ffprobe.probe(str(media_files.not_video))


def test_still_image_is_not_a_video(media_files: MediaFiles) -> None:
    with pytest.raises(Unprocessable, match="not a video"):
        ffprobe.probe(str(media_files.image))


def test_missing_binary_is_503(monkeypatch: pytest.MonkeyPatch, media_files: MediaFiles) -> None:
    monkeypatch.setenv("FFPROBE_PATH", "/nonexistent/bin/ffprobe")
    get_settings.cache_clear()
    with pytest.raises(ServiceUnavailable, match="ffprobe is not available"):
        ffprobe.probe(str(media_files.landscape))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP endpoint that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/video.mp4"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_timeout_is_503(silent_server: str) -> None:
    with pytest.raises(ServiceUnavailable, match="did not finish within 1 seconds"):
        ffprobe.probe(silent_server, timeout_seconds=1)


def test_probe_reads_a_presigned_url_without_leaking_it(media_bucket: str, media_files: MediaFiles) -> None:
    upload(media_files.landscape, "videos/a/landscape.mp4")
    upload(media_files.not_video, "videos/b/notes.mp4")
    url = media_storage.presigned_get("videos/a/landscape.mp4", 60)
    assert ffprobe.probe(url).width == 1920
    bad_url = media_storage.presigned_get("videos/b/notes.mp4", 60)
    with pytest.raises(Unprocessable) as caught:
        ffprobe.probe(bad_url)
    assert "X-Amz-Signature" not in caught.value.message
    assert "Signature=" not in caught.value.message


def _refusing_url() -> str:
    """A URL on a port nothing listens on (moto checks no signatures, so no 403 to be had from it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/videos/403.mp4"


def _read_with(tool: str, url: str) -> object:
    from chalicelib.adapters import ffmpeg

    return ffprobe.probe(url) if tool == "ffprobe" else ffmpeg.frame_at(url, 0.0)


@pytest.mark.parametrize("tool", ["ffprobe", "ffmpeg"])
def test_only_a_failed_fetch_is_503_not_a_url_that_happens_to_hold_403(
    tool: str, media_bucket: str, media_files: MediaFiles
) -> None:
    """The tools echo the URL they read; "403" in its key or signature is no HTTP error."""
    upload(media_files.not_video, "videos/403/404.mp4")
    not_a_video = media_storage.presigned_get("videos/403/404.mp4", 60)
    if tool == "ffprobe":
        with pytest.raises(Unprocessable):
            _read_with(tool, not_a_video)
    else:
        assert _read_with(tool, not_a_video) is None
    missing = media_storage.presigned_get("videos/none/missing.mp4", 60)
    for unreadable in (missing, _refusing_url()):
        with pytest.raises(ServiceUnavailable, match=f"{tool} could not read the media object"):
            _read_with(tool, unreadable)
