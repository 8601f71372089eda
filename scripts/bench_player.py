"""``make bench``, 7: the player's weight.

* The tracking SDK's two files as served (minified by ``make assets``) and gzipped, what a page
  that loads it downloads.
* What a viewer's browser downloads from opening an embed page to its first frame, by resource:
  headless Chromium opens ``/api/embed/{id}`` on the local server (a published 20 s 720p clip made
  with ffmpeg, given its HLS ladder by the ladder service, its media on a moto S3 server on
  loopback), asks it to play, and counts the bytes on
  the wire (Chromium's own network events: every finished response, and the body bytes received so
  far of those still loading) until the first frame is presented (``requestVideoFrameCallback``).
  The local server sends its answers uncompressed; deployed, API Gateway gzips those over 1 KB
  (``minimum_compression_size``), so the page, its assets, hls.js and the SDK weigh less there.
  The media bytes depend on how far the player reads ahead before the first frame: the median of
  five loads is reported, with the smallest and largest.

Run alone with ``python -m scripts.bench_player`` (on a database of its own on the server ``DATABASE_URL``
names, or the embedded one).
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "chalicelib" / "web" / "static" / "vendor"
CLIP_SECONDS = 20
CLIP_SIZE = "1280x720"
CLIP_KEY = "videos/bench/embed.mp4"
POSTER_KEY = "thumbnails/bench/embed.jpg"
FIRST_FRAME_TIMEOUT_MS = 60_000
LOADS = 5


@dataclass(frozen=True)
class FirstFrame:
    """Bytes on the wire before an embed page's first frame, by resource kind, and how long it took."""

    bytes_by_kind: dict[str, int]
    requests: int
    milliseconds: float

    @property
    def total(self) -> int:
        return sum(self.bytes_by_kind.values())


def sdk_sizes() -> list[tuple[str, int, int]]:
    """``(file, minified bytes, gzip -9 bytes)`` of each SDK file ``make assets`` built."""
    sizes = []
    for name in ("tracker.js", "tracker.mjs"):
        data = (VENDOR / name).read_bytes()
        sizes.append((name, len(data), len(gzip.compress(data, 9))))
    return sizes


def report_player(database_url: str) -> None:
    print("\n7. Player: the SDK and the embed page")
    for name, minified, zipped in sdk_sizes():
        print(f"   /api/sdk/{name:<12} {minified:6,} bytes minified, {zipped:5,} bytes min+gzip")
    tools = ("ffmpeg", os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        print(f"   embed page: not measured ({', '.join(missing)} missing)")
        return
    loads = sorted(embed_first_frame(database_url), key=lambda load: load.total)
    typical = loads[len(loads) // 2]
    parts = ", ".join(f"{kind} {size / 1024:,.1f}" for kind, size in sorted(typical.bytes_by_kind.items()))
    print(
        f"   embed page to its first frame ({CLIP_SECONDS} s {CLIP_SIZE} clip, median of {len(loads)} fresh loads): "
        f"{typical.total / 1024:,.1f} KB (from {loads[0].total / 1024:,.1f} to {loads[-1].total / 1024:,.1f}) "
        f"in {typical.requests} requests, first frame {typical.milliseconds:,.0f} ms after play\n"
        f"      KB by kind: {parts}"
    )


def embed_first_frame(database_url: str) -> list[FirstFrame]:
    with tempfile.TemporaryDirectory(prefix="bench-player-") as folder, _moto() as s3:
        clip, poster = _media(Path(folder))
        _upload(s3, clip, poster)
        video_id = _published_video(database_url, clip)
        try:
            _make_ladder(s3, video_id)
            with _local_server(database_url, s3, Path(folder) / "server.log") as base:
                return _measure(f"{base}/api/embed/{video_id}")
        finally:
            _delete_video(database_url, video_id)


def _media(folder: Path) -> tuple[Path, Path]:
    clip, poster = folder / "embed.mp4", folder / "embed.jpg"
    ffmpeg = ["ffmpeg", "-v", "error", "-y"]
    subprocess.run(
        [*ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size={CLIP_SIZE}:rate=30:duration={CLIP_SECONDS}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", "2500k", "-g", "60",
         "-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart", str(clip)],
        check=True, timeout=600,
    )  # fmt: skip
    subprocess.run([*ffmpeg, "-ss", "3", "-i", str(clip), "-frames:v", "1", str(poster)], check=True, timeout=60)
    return clip, poster


@contextmanager
def _moto() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _s3(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def _bucket() -> str:
    from chalicelib.config import get_settings

    return get_settings().media_bucket


def _upload(endpoint: str, clip: Path, poster: Path) -> None:
    s3 = _s3(endpoint)
    s3.create_bucket(Bucket=_bucket())
    s3.put_object(Bucket=_bucket(), Key=CLIP_KEY, Body=clip.read_bytes(), ContentType="video/mp4")
    s3.put_object(Bucket=_bucket(), Key=POSTER_KEY, Body=poster.read_bytes(), ContentType="image/jpeg")


def _make_ladder(endpoint: str, video_id: int) -> None:
    """The video's HLS ladder, made here as the ladder function makes it (ffmpeg), and the bucket's CORS for
    the embed page's hls.js."""
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.config import get_settings
    from chalicelib.services import transcoding

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    get_settings.cache_clear()
    reset_clients()
    try:
        outcome = transcoding.make_ladder(video_id)
        if outcome in ("failed", "skipped"):
            raise RuntimeError(f"the ladder of the bench's clip was not made: {outcome}")
    finally:
        os.environ.pop("AWS_ENDPOINT_URL")
        get_settings.cache_clear()
        reset_clients()
    rule = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"]}
    _s3(endpoint).put_bucket_cors(Bucket=_bucket(), CORSConfiguration={"CORSRules": [rule]})


def _published_video(database_url: str, clip: Path) -> int:
    from scripts.bench import native_connection

    connection = native_connection(database_url)
    try:
        rows = connection.run(
            """INSERT INTO videos (filename, thumbnail_key, title, duration, file_size, width, height, orientation,
                                   quality, is_published)
               VALUES (:key, :poster, 'Embed page bench', :seconds, :size, 1280, 720, 'H', 'HD', true) RETURNING id""",
            key=CLIP_KEY,
            poster=POSTER_KEY,
            seconds=CLIP_SECONDS,
            size=clip.stat().st_size,
        )
        return int(rows[0][0])
    finally:
        connection.close()


def _delete_video(database_url: str, video_id: int) -> None:
    from scripts.bench import native_connection

    connection = native_connection(database_url)
    try:
        connection.run("DELETE FROM videos WHERE id = :id", id=video_id)
    finally:
        connection.close()


@contextmanager
def _local_server(database_url: str, s3: str, log: Path) -> Iterator[str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "AWS_ENDPOINT_URL": s3, "MEDIA_API_URL": base}
    command = [sys.executable, "-m", "scripts.local_server", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(base, process)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{base}/api/sdk/tracker.js", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the local server did not answer in 60 s")


def _measure(url: str) -> list[FirstFrame]:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            return [_first_frame(browser, url) for _ in range(LOADS)]
        finally:
            browser.close()


def _first_frame(browser: Any, url: str) -> FirstFrame:
    """One viewer with an empty cache (a context of its own) opens the page and plays."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        network = _Network(page.context.new_cdp_session(page))
        page.goto(url)
        page.focus("#player")
        started = page.evaluate("performance.timeOrigin + performance.now()")
        page.keyboard.press("Space")
        shown = page.evaluate(
            """(timeout) => new Promise((resolve, reject) => {
                const video = document.getElementById("player");
                video.requestVideoFrameCallback(() => resolve(performance.timeOrigin + performance.now()));
                setTimeout(() => reject(new Error("no frame")), timeout);
            })""",
            FIRST_FRAME_TIMEOUT_MS,
        )
        page.wait_for_timeout(200)  # the network events of that moment reach us
        return network.before(shown / 1000, shown - started)
    finally:
        page.context.close()


class _Network:
    """Chromium's network events of one page, to sum what came before a moment."""

    def __init__(self, session: Any) -> None:
        self.kinds: dict[str, str] = {}
        self.chunks: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.finished: dict[str, tuple[float, int]] = {}
        self.wall_offset = 0.0  # wall clock seconds - Chromium's monotonic seconds
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.dataReceived", self._data)
        session.on("Network.loadingFinished", self._finished)
        session.send("Network.enable")

    def _sent(self, event: dict[str, Any]) -> None:
        self.wall_offset = event["wallTime"] - event["timestamp"]
        self.kinds[event["requestId"]] = _kind(event["request"]["url"])

    def _data(self, event: dict[str, Any]) -> None:
        # Chromium reports a media response's wire bytes late and in lumps; its body bytes (nothing here is
        # compressed on the way) arrive chunk by chunk.
        self.chunks[event["requestId"]].append((event["timestamp"], event["dataLength"]))

    def _finished(self, event: dict[str, Any]) -> None:
        self.finished[event["requestId"]] = (event["timestamp"], event["encodedDataLength"])

    def before(self, wall_seconds: float, milliseconds: float) -> FirstFrame:
        moment = wall_seconds - self.wall_offset
        totals: dict[str, int] = defaultdict(int)
        requests = 0
        for request_id, kind in self.kinds.items():
            done = self.finished.get(request_id)
            if done and done[0] <= moment:
                received = done[1]
            else:
                received = sum(size for at, size in self.chunks[request_id] if at <= moment)
            if received:
                totals[kind] += received
                requests += 1
        return FirstFrame(dict(totals), requests, milliseconds)


# Where a request went, by a piece of its path: what the report calls it.
KINDS = (
    ("/api/embed/", "page"),
    ("/api/sdk/", "SDK"),
    ("/api/assets/hls", "hls.js"),
    ("/api/playback/", "playlists"),
    ("/api/assets/", "page assets"),
    ("/api/track/", "tracking"),
    ("/thumbnails/", "poster"),
)


def _kind(url: str) -> str:
    path = url.split("?", maxsplit=1)[0]
    return next((kind for marker, kind in KINDS if marker in path), "media")


def main() -> int:
    """This part alone, on a database of its own (created, migrated, dropped)."""
    from scripts.bench import _bench_environment, create_database, drop_database
    from scripts.embedded_db import server_url

    _bench_environment()
    server = server_url()
    url = create_database(server, "media_bench_player")
    os.environ["DATABASE_URL"] = url  # the ladder is made in this process, as the bench's refresh is
    try:
        report_player(url)
    finally:
        drop_database(server, "media_bench_player")
    return 0


if __name__ == "__main__":
    sys.exit(main())
