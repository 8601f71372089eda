"""Video metadata with ffprobe, read over HTTP.

ffprobe is pointed at a presigned GET URL: it reads the container header with
range requests, so a multi-gigabyte file is never downloaded. The binary comes
from ``FFPROBE_PATH`` (``/opt/bin/ffprobe`` from the Lambda layer).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import media_tools
from chalicelib.config import get_settings
from chalicelib.domain.errors import ServiceUnavailable, Unprocessable
from chalicelib.domain.video import derive_orientation, derive_quality

PROBE_ARGS = ("-v", "error", "-print_format", "json", "-show_format", "-show_streams")
# Demuxers that read still images; ffprobe reports them as a one-frame "video" stream.
IMAGE_FORMATS = ("image2", "_pipe", "gif", "apng", "webp")
STILL_CODECS = {"png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpeg2000"}
MAX_STDERR_CHARS = 300
_QUERY = re.compile(r"\?\S*?(?=: |\s|$)")


# ffprobe did not finish in time: a slow read (retry) or a file too long to probe (after retries).
ProbeTimeout = media_tools.ToolTimeout


@dataclass(frozen=True)
class VideoMetadata:
    """A video's probed facts: duration, dimensions, orientation, quality, audio (``file_size`` comes from S3)."""

    duration: int
    width: int
    height: int
    orientation: str
    quality: str
    has_audio: bool
    # Frames per second of the picture (not part of the answer): the ladder keeps it, or halves it.
    frame_rate: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "orientation": self.orientation,
            "quality": self.quality,
            "hasAudio": self.has_audio,
        }


def probe(source: str, *, timeout_seconds: int | None = None) -> VideoMetadata:
    """Probe a URL or path; 422 when it is not a video, 503 when ffprobe cannot run."""
    return parse_probe_output(run_ffprobe(source, timeout_seconds=timeout_seconds))


def run_ffprobe(source: str, *, timeout_seconds: int | None = None) -> dict[str, Any]:
    settings = get_settings()
    timeout = timeout_seconds or settings.ffprobe_timeout_seconds
    command = [settings.ffprobe_path, *PROBE_ARGS, "-rw_timeout", str(timeout * 1_000_000), source]
    completed = media_tools.run(command, tool="ffprobe", setting="FFPROBE_PATH", timeout=timeout)
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1].replace(source, "media object") if detail else f"exit status {completed.returncode}"
        reason = _redact(reason)[:MAX_STDERR_CHARS]
        if media_tools.could_not_fetch(completed.stderr, source):
            raise ServiceUnavailable(f"ffprobe could not read the media object: {reason}")
        raise Unprocessable(f"The file is not a readable video: {reason}")
    try:
        output = json.loads(completed.stdout or b"{}")
    except ValueError as exc:
        raise Unprocessable("The file is not a readable video: ffprobe gave no metadata") from exc
    return output if isinstance(output, dict) else {}


def _redact(reason: str) -> str:
    """ffprobe echoes the input URL in errors; a presigned URL's signature must not reach clients or logs."""
    return _QUERY.sub("", reason)


def parse_probe_output(output: dict[str, Any]) -> VideoMetadata:
    """ffprobe JSON → metadata, honouring phone rotation (``rotate`` tag or display matrix)."""
    streams = [s for s in output.get("streams") or [] if isinstance(s, dict)]
    fmt = _mapping(output.get("format"))
    video = _main_video_stream(streams)
    format_name = str(fmt.get("format_name") or "")
    if video is None or _is_still_image(format_name, video):
        raise Unprocessable("The file is not a video: it has no video stream")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise Unprocessable("The file is not a video: its video stream has no frame size")
    duration = _duration(fmt, video)
    if duration is None:
        raise Unprocessable("The file is not a video: it has no duration")
    if abs(rotation_degrees(video)) % 180 == 90:
        width, height = height, width
    return VideoMetadata(
        duration=round(duration),
        width=width,
        height=height,
        orientation=derive_orientation(width, height),
        quality=derive_quality(width, height),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
        frame_rate=frame_rate(video),
    )


def frame_rate(video: dict[str, Any]) -> float | None:
    """The stream's average frame rate (``30000/1001``), else its base rate; None when unknown or absurd."""
    for raw in (video.get("avg_frame_rate"), video.get("r_frame_rate")):
        numerator, _, denominator = str(raw or "").partition("/")
        try:
            rate = float(numerator) / float(denominator or 1)
        except (ValueError, ZeroDivisionError):
            continue
        if 1 <= rate <= 240:
            return round(rate, 3)
    return None


def _main_video_stream(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first video stream that is not cover art (``attached_pic``)."""
    for stream in streams:
        disposition = _mapping(stream.get("disposition"))
        if stream.get("codec_type") == "video" and not disposition.get("attached_pic"):
            return stream
    return None


def _is_still_image(format_name: str, video: dict[str, Any]) -> bool:
    if any(marker in format_name for marker in IMAGE_FORMATS):
        return True
    return str(video.get("codec_name") or "") in STILL_CODECS and str(video.get("nb_frames") or "") in {"", "1"}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _duration(fmt: dict[str, Any], video: dict[str, Any]) -> float | None:
    for raw in (fmt.get("duration"), video.get("duration")):
        if raw is None:
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            continue
        if value >= 0:
            return value
    return None


def rotation_degrees(video: dict[str, Any]) -> int:
    """Rotation of a stream: the display matrix side data (ffprobe >= 5) or the legacy ``rotate`` tag."""
    for side_data in video.get("side_data_list") or []:
        if isinstance(side_data, dict) and "rotation" in side_data:
            try:
                return int(float(side_data["rotation"]))
            except (TypeError, ValueError):
                break
    tags = _mapping(video.get("tags"))
    try:
        return int(float(tags.get("rotate", 0)))
    except (TypeError, ValueError):
        return 0
