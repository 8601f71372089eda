"""Poster frames with ffmpeg, read over HTTP like ffprobe reads (a presigned GET, range requests).

A poster frame is taken at about 10% of the duration, where a video has usually left
its opening titles; a frame darker than :data:`BLACK_LUMA` (a fade-in, a black
leader) is skipped for the next candidate position. ffmpeg applies the stream's
rotation (a phone clip's display matrix) before scaling, so the JPEG has the shape the
viewer sees, at most :data:`MAX_SIDE` pixels on its long side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.adapters import media_tools
from chalicelib.config import get_settings
from chalicelib.domain.errors import ServiceUnavailable, Unprocessable

MAX_SIDE = 1280
# Mean luma (0-255) below which a frame counts as black.
BLACK_LUMA = 24.0
# Where to look, in order: ~10% first, later if that is black, the very start last.
CANDIDATE_FRACTIONS = (0.10, 0.20, 0.35, 0.50, 0.75, 0.0)
JPEG_QUALITY = 3  # ffmpeg's mjpeg -q:v scale: 2 (best) .. 31
_LUMA = re.compile(rb"lavfi\.signalstats\.YAVG=([0-9.]+)")
# Long side at most MAX_SIDE, never upscaled, the other side even (what encoders want), aspect kept.
SCALE = f"scale=w='if(gte(iw,ih),min({MAX_SIDE},iw),-2)':h='if(gte(iw,ih),-2,min({MAX_SIDE},ih))'"


@dataclass(frozen=True)
class Frame:
    jpeg: bytes
    luma: float
    at_seconds: float


def poster_frame(source: str, duration_seconds: float) -> Frame:
    """The first candidate frame that is not black, else the brightest one found."""
    best: Frame | None = None
    for fraction in CANDIDATE_FRACTIONS:
        frame = frame_at(source, duration_seconds * fraction)
        if frame is None:
            continue
        if frame.luma >= BLACK_LUMA:
            return frame
        if best is None or frame.luma > best.luma:
            best = frame
    if best is None:
        raise Unprocessable("No frame of the video could be decoded")
    return best


def frame_at(source: str, seconds: float) -> Frame | None:
    """One scaled JPEG frame at ``seconds`` and its mean luma; None when ffmpeg decoded no frame there."""
    settings = get_settings()
    timeout = settings.thumbnail_timeout_seconds
    command = [
        settings.ffmpeg_path, "-hide_banner", "-nostdin", "-loglevel", "info",
        "-rw_timeout", str(timeout * 1_000_000),
        "-ss", f"{max(0.0, seconds):.3f}", "-i", source,
        "-frames:v", "1", "-an",
        "-vf", f"{SCALE},signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG",
        "-f", "image2", "-c:v", "mjpeg", "-q:v", str(JPEG_QUALITY), "pipe:1",
    ]  # fmt: skip
    completed = media_tools.run(command, tool="ffmpeg", setting="FFMPEG_PATH", timeout=timeout)
    if completed.returncode != 0:
        if media_tools.could_not_fetch(completed.stderr, source):
            raise ServiceUnavailable("ffmpeg could not read the media object")
        return None
    luma = _LUMA.search(completed.stderr)
    if not completed.stdout or luma is None:
        return None
    return Frame(jpeg=completed.stdout, luma=float(luma.group(1)), at_seconds=seconds)
