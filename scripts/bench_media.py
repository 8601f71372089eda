"""``make bench``, 8: what a video's HLS ladder costs, with real ffmpeg on clips made here.

Three kinds of upload, each ``--media-seconds`` long (10 by default), made with ffmpeg's test
sources: a 1920x1080 H.264 + AAC camera clip, a 720x1280 HEVC + AAC portrait phone clip, and a
960x540 H.264 clip without audio. Each one goes the way an upload goes, its media on a moto S3
server on loopback (queues there too) and its row in a database of its own:

* **upload → ready**: the object PUT into the bucket, ingested as the ingest function does
  (:func:`chalicelib.services.ingest.ingest_object`: ffprobe over a presigned URL, the row, the
  ladder message), then the ladder message handed to ``make_video_ladder`` as the local dispatcher
  hands it (probe again, plan, ONE ffmpeg run reading the original over a presigned URL, the
  renditions uploaded, the ladder recorded);
* **bare ffmpeg**: the same rungs with the same argv (:func:`chalicelib.adapters.ffmpeg_ladder.command`)
  from the local file into a local folder, nothing else: the floor the ladder function is compared with;
* the **realtime factor** of each (seconds of video per second of work) and the **bytes of each rung**
  (the bitrate they come to, beside the rung's target).

Then the playlist route (signature check, the playlists read from the database, each rung's media
URL presigned) through the Lambda entry point in-process, p50/p99 of ``--samples`` requests: the
1080p clip's master and top rung, and a 10-minute video's rung (a 160x90 clip at 10 fps, one rung
of 100 segments, made with the ``ultrafast`` preset: the answer's size grows with the segments, its signing
does not). Every figure is one run on a shared machine; nothing here asserts a time.

Run alone with ``python -m scripts.bench_media`` (a database of its own on the server
``DATABASE_URL`` names, or the embedded one).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

T = TypeVar("T")
DEFAULT_SECONDS = 10
PLAYLIST_SAMPLES = 200
LONG_VIDEO_SECONDS = 600
FFMPEG_TIMEOUT_SECONDS = 900
DATABASE = "media_bench_media"


@dataclass(frozen=True)
class Kind:
    """A kind of upload: what the clip is, and the ffmpeg arguments that make it."""

    label: str
    name: str
    width: int
    height: int
    audio: bool
    video_codec: tuple[str, ...]
    frame_rate: int = 30


KINDS = (
    Kind("1080p H.264 + AAC", "camera.mp4", 1920, 1080, True,
         ("-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8000k")),
    Kind("HEVC portrait 720x1280 + AAC", "phone.mp4", 720, 1280, True,
         ("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1")),
    Kind("silent 960x540 H.264", "silent.mp4", 960, 540, False, ("-c:v", "libx264", "-preset", "ultrafast")),
)  # fmt: skip
# Only its playlist is measured: 10 fps keeps its 100 segments and makes it in a third of the time.
LONG = Kind("10-minute 160x90", "long.mp4", 160, 90, False, ("-c:v", "libx264", "-preset", "ultrafast"), 10)


@dataclass(frozen=True)
class Work:
    """A step's wall time and CPU time: the tools' (ffmpeg, ffprobe: child processes) and this process's
    (the handler, boto3, and the moto server's thread). On a shared machine the wall time follows the
    neighbours' load; the CPU time much less, so the ladder against bare ffmpeg is compared on it too."""

    wall: float
    tools_cpu: float
    own_cpu: float

    @property
    def cpu(self) -> float:
        return self.tools_cpu + self.own_cpu


def _cpu() -> tuple[float, float]:
    children, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime, own.ru_utime + own.ru_stime


def measured(action: Callable[[], T]) -> tuple[T, Work]:
    """Run ``action``; what it returned and what it cost."""
    tools, own = _cpu()
    started = time.perf_counter()
    value = action()
    wall = time.perf_counter() - started
    tools_after, own_after = _cpu()
    return value, Work(wall, tools_after - tools, own_after - own)


@dataclass(frozen=True)
class LadderRun:
    """One clip through the pipeline and through bare ffmpeg."""

    kind: Kind
    seconds: int
    video_id: int
    upload: Work
    ingest: Work
    ladder: Work
    bare: Work
    rungs: dict[str, tuple[int, int]]  # rung name -> (bytes, target kbit/s)

    @property
    def ready(self) -> float:
        return self.upload.wall + self.ingest.wall + self.ladder.wall


def make_clip(kind: Kind, seconds: int, folder: Path) -> Path:
    """The clip, with ffmpeg's test picture (and a tone), keyframes every 2 s as cameras write them."""
    path = folder / kind.name
    picture = f"testsrc2=size={kind.width}x{kind.height}:rate={kind.frame_rate}:duration={seconds}"
    inputs = ["-f", "lavfi", "-i", picture]
    if kind.audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
    keyframes = ("-g", str(2 * kind.frame_rate))
    argv = ["ffmpeg", "-v", "error", "-y", *inputs, *kind.video_codec, "-pix_fmt", "yuv420p", *keyframes]
    subprocess.run([*argv, "-movflags", "+faststart", str(path)], check=True, timeout=FFMPEG_TIMEOUT_SECONDS)
    return path


@contextmanager
def emulated_aws() -> Iterator[None]:
    """A moto server on loopback with the bucket and every function's queue, the settings pointed at it."""
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings
    from scripts.local_aws import ensure_resources, start_moto_server, stop_moto_servers

    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "MEDIA_BUCKET", "MEDIA_QUEUE_PREFIX")}
    os.environ["AWS_ENDPOINT_URL"] = start_moto_server()
    try:
        os.environ.update(ensure_resources())
        get_settings.cache_clear()
        reset_clients()
        yield
    finally:
        stop_moto_servers()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        reset_clients()


def upload_to_ready(kind: Kind, clip: Path, seconds: int) -> tuple[int, Work, Work, Work]:
    """The clip uploaded, ingested and given its ladder: the video's id, and what each step cost."""
    from chalicelib.adapters import media_storage
    from chalicelib.config import get_settings
    from chalicelib.services import ingest, transcoding
    from scripts.local_dispatcher import dispatch_queue

    key = f"videos/bench-{seconds}s/{kind.name}"
    _, upload = measured(lambda: media_storage.upload_file(key, str(clip), "video/mp4"))
    video_id, ingested = measured(lambda: ingest.ingest_object(key).video.id)
    queue = get_settings().queue_name(transcoding.LADDER_QUEUE)
    handled, ladder = measured(lambda: dispatch_queue(queue, "make_video_ladder"))
    if handled != 1 or _status(video_id) != "ready":
        raise RuntimeError(f"the ladder of the {kind.label} clip was not made ({handled} messages handled)")
    return video_id, upload, ingested, ladder


def _status(video_id: int) -> str:
    return str(_row(video_id, "processing_status"))


def _row(video_id: int, column: str) -> Any:
    from scripts.bench import native_connection

    connection = native_connection(os.environ["DATABASE_URL"])
    try:
        return connection.run(f"SELECT {column} FROM videos WHERE id = :id", id=video_id)[0][0]
    finally:
        connection.close()


def planned_rungs(video_id: int) -> tuple[Any, ...]:
    """The rungs the ladder service planned for the video (kept on its row)."""
    from chalicelib.domain import ladder

    return tuple(ladder.Rung(**rung) for rung in _row(video_id, "ladder_plan"))


def bare_ladder(clip: Path, video_id: int) -> Work:
    """The same rungs with the same argv, from the local file into a local folder: ffmpeg's own time."""
    from chalicelib.adapters import ffmpeg_ladder
    from chalicelib.config import get_settings

    preset = get_settings().ffmpeg_ladder_preset
    with tempfile.TemporaryDirectory(prefix="bench-ladder-") as folder:
        argv = ffmpeg_ladder.command(
            str(clip), planned_rungs(video_id), Path(folder), preset=preset, timeout=FFMPEG_TIMEOUT_SECONDS
        )
        return measured(lambda: subprocess.run(argv, check=True, timeout=FFMPEG_TIMEOUT_SECONDS))[1]


def rung_bytes(video_id: int) -> dict[str, tuple[int, int]]:
    """Each rung's stored bytes (playlist excluded: it lives in the database) and its target kbit/s."""
    from chalicelib.adapters.aws import client
    from chalicelib.config import get_settings
    from chalicelib.services import transcoding

    sizes: dict[str, int] = defaultdict(int)
    pages = client("s3").get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=get_settings().media_bucket, Prefix=transcoding.video_prefix(video_id)):
        for item in page.get("Contents", []):
            sizes[Path(item["Key"]).stem] += int(item["Size"])
    targets = {rung.name: rung.video_kbps + rung.audio_kbps for rung in planned_rungs(video_id)}
    return {name: (sizes[name], targets[name]) for name in targets}


def ladder_run(kind: Kind, seconds: int, folder: Path) -> LadderRun:
    clip = make_clip(kind, seconds, folder)
    video_id, upload, ingest, ladder = upload_to_ready(kind, clip, seconds)
    bare = bare_ladder(clip, video_id)
    return LadderRun(kind, seconds, video_id, upload, ingest, ladder, bare, rung_bytes(video_id))


def print_run(run: LadderRun) -> None:
    ladder, bare = run.ladder, run.bare
    print(
        f"   {run.kind.label}, {run.seconds} s: upload→ready {run.ready:.1f} s (upload {run.upload.wall:.2f}, "
        f"ingest {run.ingest.wall:.2f}, ladder {ladder.wall:.1f}), realtime x{run.seconds / ladder.wall:.2f}\n"
        f"      ladder {ladder.wall:5.1f} s wall, {ladder.cpu:5.1f} s CPU (tools {ladder.tools_cpu:.1f}, Python "
        f"{ladder.own_cpu:.1f}); bare ffmpeg {bare.wall:5.1f} s wall, {bare.cpu:5.1f} s CPU; ladder/bare: "
        f"{ladder.cpu / bare.cpu:.2f}x CPU, {ladder.wall / bare.wall:.2f}x wall"
    )
    rungs = ", ".join(
        f"{name} {size / 1024:,.0f} KB ({size * 8 / run.seconds / 1000:,.0f} of {target:,} kbit/s)"
        for name, (size, target) in run.rungs.items()
    )
    print(f"      bytes: {rungs}")


# --- the playlist route ------------------------------------------------------------------


def playlist_latency(video_id: int, playlists: tuple[str, ...], samples: int) -> dict[str, tuple[float, float, int]]:
    """``GET /api/playback/{id}/<playlist>`` through the Lambda entry point: p50 ms, p99 ms, answer bytes."""
    from app import app
    from scripts.apigw import LambdaContext, proxy_event
    from scripts.bench import _admin_headers, percentile, quiet_stdout, timed

    with quiet_stdout():
        video = _answer(app, proxy_event("GET", "/api/videos/{video_id}", headers=_admin_headers(os.environ[
            "DATABASE_URL"]), path_parameters={"video_id": str(video_id)}))  # fmt: skip
        query = dict(parse_qsl(urlsplit(video["playbackUrl"]).query))
        figures = {}
        for playlist in playlists:
            event = proxy_event("GET", "/api/playback/{video_id}/{playlist}", query=query,
                                path_parameters={"video_id": str(video_id), "playlist": playlist})  # fmt: skip
            size = len(_playlist(app, event))
            runs = [timed(lambda event=event: app(event, LambdaContext())) for _ in range(samples)]
            figures[playlist] = (percentile(runs, 0.5) * 1000, percentile(runs, 0.99) * 1000, size)
    return figures


def _answer(app: Any, event: dict[str, Any]) -> dict[str, Any]:
    from scripts.apigw import invoke

    status, _, body = invoke(app, event)
    if status != 200:
        raise RuntimeError(f"{event['path']} answered {status}: {body}")
    return dict(body)


def _playlist(app: Any, event: dict[str, Any]) -> str:
    from scripts.apigw import LambdaContext

    response = app(event, LambdaContext())
    if response["statusCode"] != 200 or not response["body"].startswith("#EXTM3U"):
        raise RuntimeError(f"{event['path']} answered {response['statusCode']}: {response['body'][:200]}")
    return str(response["body"])


def long_video(folder: Path) -> int:
    """A 10-minute video given its one-rung ladder, fast (``ultrafast``): for the playlist route's figure."""
    from chalicelib.config import get_settings

    saved = os.environ.get("VIDEO_FFMPEG_PRESET")
    os.environ["VIDEO_FFMPEG_PRESET"] = "ultrafast"
    get_settings.cache_clear()
    try:
        return upload_to_ready(LONG, make_clip(LONG, LONG_VIDEO_SECONDS, folder), LONG_VIDEO_SECONDS)[0]
    finally:
        if saved is None:
            os.environ.pop("VIDEO_FFMPEG_PRESET")
        else:
            os.environ["VIDEO_FFMPEG_PRESET"] = saved
        get_settings.cache_clear()


# --- the report --------------------------------------------------------------------------


def report_media(seconds: int = DEFAULT_SECONDS, samples: int = PLAYLIST_SAMPLES) -> None:
    import logging

    from chalicelib.config import get_settings
    from scripts.bench import quiet_stdout

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request to moto

    preset = get_settings().ffmpeg_ladder_preset
    print(f"\n8. Media: the HLS ladder (ffmpeg {_ffmpeg_version()}, preset {preset}) and the playlist route")
    missing = [tool for tool in ("ffmpeg", "ffprobe") if not shutil.which(tool)]
    if missing:
        print(f"   not measured ({', '.join(missing)} missing)")
        return
    with tempfile.TemporaryDirectory(prefix="bench-media-") as scratch, emulated_aws():
        folder = Path(scratch)
        with quiet_stdout():  # the functions' metric lines
            runs = [ladder_run(kind, seconds, folder) for kind in KINDS]
            long = long_video(folder)
        for run in runs:
            print_run(run)
        figures = playlist_latency(runs[0].video_id, ("master.m3u8", f"{_top_rung(runs[0])}.m3u8"), samples)
        figures |= {
            f"{name} (10 minutes)": value for name, value in playlist_latency(long, ("90p.m3u8",), samples).items()
        }
    print(f"   playlist route, in-process entry point (p50/p99 of {samples}; signing included):")
    for name, (p50, p99, size) in figures.items():
        print(f"      {name:<22} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {size:,} bytes")


def _top_rung(run: LadderRun) -> str:
    return max(run.rungs, key=lambda name: int(name.removesuffix("p")))


def _ffmpeg_version() -> str:
    first = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=False).stdout.split()
    return first[2] if len(first) > 2 else "?"


def main(argv: list[str] | None = None) -> int:
    """This part alone, on a database of its own (created, migrated, dropped)."""
    from scripts.bench import _bench_environment, create_database, drop_database
    from scripts.embedded_db import server_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media-seconds", type=int, default=DEFAULT_SECONDS, help="length of each clip")
    parser.add_argument("--samples", type=int, default=PLAYLIST_SAMPLES, help="requests per playlist")
    args = parser.parse_args(argv)
    _bench_environment()
    server = server_url()
    os.environ["DATABASE_URL"] = create_database(server, DATABASE)
    try:
        report_media(args.media_seconds, args.samples)
    finally:
        drop_database(server, DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
