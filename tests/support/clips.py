"""Short, small real clips for the ladder tests, made with Debian's ffmpeg (lavfi test sources).

Each is what a kind of upload looks like: a phone's HEVC clip, a portrait H.264 clip, a
clip without audio, a rotated one (a display matrix, as phones write). A few seconds at
most 720p, so a ladder of one takes seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FFMPEG_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class Clip:
    path: Path
    width: int  # as the viewer sees it
    height: int
    has_audio: bool
    seconds: int


def _ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is required to make test clips (apt-get install ffmpeg)")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=FFMPEG_TIMEOUT_SECONDS)


def _picture(width: int, height: int, seconds: int) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}")


def _tone(seconds: int) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}")


def hevc(directory: Path, seconds: int = 8) -> Clip:
    """1280x720 HEVC (hvc1) + AAC: what a phone records, and what Chromium cannot decode."""
    path = directory / "phone-hevc.mp4"
    _ffmpeg(
        *_picture(1280, 720, seconds), *_tone(seconds),
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    )  # fmt: skip
    return Clip(path, 1280, 720, True, seconds)


def portrait(directory: Path, seconds: int = 8) -> Clip:
    """720x1280 H.264 + AAC, portrait."""
    path = directory / "portrait.mp4"
    _ffmpeg(
        *_picture(720, 1280, seconds), *_tone(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    )  # fmt: skip
    return Clip(path, 720, 1280, True, seconds)


def silent(directory: Path, seconds: int = 8, width: int = 640, height: int = 360) -> Clip:
    """H.264 without an audio stream."""
    path = directory / f"silent-{width}x{height}.mp4"
    _ffmpeg(*_picture(width, height, seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-an", str(path))  # fmt: skip
    return Clip(path, width, height, False, seconds)


def rotated(directory: Path, seconds: int = 4) -> Clip:
    """Encoded 960x540 with a display matrix of 90 degrees: the viewer sees 540x960 portrait."""
    plain = directory / "rotated-raw.mp4"
    _ffmpeg(
        *_picture(960, 540, seconds), *_tone(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(plain),
    )  # fmt: skip
    path = directory / "rotated.mp4"
    _ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))
    return Clip(path, 540, 960, True, seconds)


def isolate(monkeypatch: Any) -> None:
    """A bucket and queues of this test's own in the session's emulator, so nothing another test left
    (objects, notifications, messages) reaches it."""
    token = uuid.uuid4().hex[:10]
    monkeypatch.setenv("MEDIA_BUCKET", f"media-{token}")
    monkeypatch.setenv("MEDIA_QUEUE_PREFIX", f"media-{token}")
