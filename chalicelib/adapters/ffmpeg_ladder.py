"""The whole ladder in ONE ffmpeg run: the source is read (over a presigned URL) and decoded once,
split, and each rung scaled and encoded side by side into its HLS rendition.

Each rung becomes one MPEG-TS file read by byte ranges (``single_file``) and its media
playlist, in a local directory the caller uploads. Keyframes are forced on the same
instants in every rung (every ``GOP_SECONDS``, scene-cut keyframes off), so every rung
cuts its segments at the same times and players can switch between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chalicelib.adapters import media_tools
from chalicelib.config import get_settings
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.ladder import (
    AUDIO_CHANNELS,
    AUDIO_SAMPLE_RATE,
    GOP_SECONDS,
    H264_PROFILE,
    PIXEL_FORMAT,
    SEGMENT_SECONDS,
    Rung,
)

SEGMENT_EXTENSION = ".ts"
SEGMENT_CONTENT_TYPE = "video/mp2t"
MAX_STDERR_CHARS = 400


class TranscodeFailed(Exception):
    """ffmpeg read the source but could not make the ladder (a verdict on the file, not a retry)."""


@dataclass(frozen=True)
class RungOutput:
    rung: Rung
    playlist: Path
    media: Path


def command(source: str, rungs: tuple[Rung, ...], directory: Path, *, preset: str, timeout: int) -> list[str]:
    """The ffmpeg argv that makes every rung of ``rungs`` from ``source`` into ``directory``."""
    settings = get_settings()
    has_audio = any(rung.has_audio for rung in rungs)
    splits = "".join(f"[s{i}]" for i in range(len(rungs)))
    graph = [f"[0:v:0]split={len(rungs)}{splits}"] + [f"[s{i}]{_filters(rung)}[v{i}]" for i, rung in enumerate(rungs)]
    argv = [
        settings.ffmpeg_path, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-rw_timeout", str(timeout * 1_000_000), "-i", source,
        "-filter_complex", ";".join(graph),
    ]  # fmt: skip
    for index in range(len(rungs)):
        argv += ["-map", f"[v{index}]"] + (["-map", "0:a:0"] if has_audio else [])
    argv += [
        "-c:v", "libx264", "-preset", preset, "-profile:v", H264_PROFILE, "-pix_fmt", PIXEL_FORMAT,
        "-sc_threshold", "0", "-force_key_frames", f"expr:gte(t,n_forced*{GOP_SECONDS})",
    ]  # fmt: skip
    for index, rung in enumerate(rungs):
        argv += [
            f"-b:v:{index}", f"{rung.video_kbps}k", f"-maxrate:v:{index}", f"{rung.peak_video_kbps}k",
            f"-bufsize:v:{index}", f"{rung.buffer_kbits}k", f"-level:v:{index}", rung.level,
        ]  # fmt: skip
    if has_audio:
        audio_kbps = max(rung.audio_kbps for rung in rungs)
        argv += ["-c:a", "aac", "-b:a", f"{audio_kbps}k", "-ac", str(AUDIO_CHANNELS), "-ar", str(AUDIO_SAMPLE_RATE)]
    streams = " ".join(
        f"v:{i},a:{i},name:{rung.name}" if has_audio else f"v:{i},name:{rung.name}" for i, rung in enumerate(rungs)
    )
    argv += [
        "-max_muxing_queue_size", "4096",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_flags", "single_file+independent_segments", "-hls_segment_type", "mpegts",
        "-var_stream_map", streams,
        "-hls_segment_filename", str(directory / f"%v{SEGMENT_EXTENSION}"),
        str(directory / "%v.m3u8"),
    ]  # fmt: skip
    return argv


def _filters(rung: Rung) -> str:
    """Scale to the rung (the decoder has applied the rotation), square pixels, 8-bit 4:2:0, its frame rate."""
    chain = [f"scale={rung.width}:{rung.height}:flags=bicubic", "setsar=1", f"format={PIXEL_FORMAT}"]
    if rung.frame_rate is not None:
        chain.append(f"fps={rung.frame_rate}")
    return ",".join(chain)


def make_ladder(source: str, rungs: tuple[Rung, ...], directory: Path) -> list[RungOutput]:
    """Run ffmpeg; the rungs' playlists and media files in ``directory``.

    :class:`ServiceUnavailable` when ffmpeg is missing or could not fetch the source (retry),
    :class:`media_tools.ToolTimeout` past ``VIDEO_FFMPEG_TIMEOUT_SECONDS``,
    :class:`TranscodeFailed` when it could not transcode what it read.
    """
    settings = get_settings()
    timeout = settings.ffmpeg_ladder_timeout_seconds
    argv = command(source, rungs, directory, preset=settings.ffmpeg_ladder_preset, timeout=timeout)
    completed = media_tools.run(argv, tool="ffmpeg", setting="FFMPEG_PATH", timeout=timeout)
    if completed.returncode != 0:
        if media_tools.could_not_fetch(completed.stderr, source):
            raise ServiceUnavailable("ffmpeg could not read the original upload")
        message = completed.stderr.decode(errors="replace").replace(source, "<source>").strip()
        raise TranscodeFailed(message[-MAX_STDERR_CHARS:] or f"ffmpeg exited with status {completed.returncode}")
    outputs = [
        RungOutput(rung, directory / f"{rung.name}.m3u8", directory / f"{rung.name}{SEGMENT_EXTENSION}")
        for rung in rungs
    ]
    missing = [str(output.playlist.name) for output in outputs if not output.playlist.is_file()]
    if missing:
        raise TranscodeFailed(f"ffmpeg finished without writing {', '.join(missing)}")
    return outputs
