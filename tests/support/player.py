"""What the player tests share: a clip made with ffmpeg, a log of what a page's tracking SDK sent,
polling with a generous deadline, and a site that serves media with Range and can stall part-way
(a slow network)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar

from tests.support.browser import ConsoleErrors
from tests.support.paths import ROOT

T = TypeVar("T")
TRACK = "/api/track/"


# The whole integration, as docs/sdk.md gives it; the page also notes when it asked to play and when
# the first frame came (the `playing` event's time stamp: a listener runs late by what the listeners
# before it did), its own measurement of the startup time.
SDK_PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>watch</title>
<video id="video" src="{media}" muted playsinline preload="auto" width="640" height="360"></video>
<script src="{api}/api/sdk/tracker.js"></script>
<script>
  window.tracker = MediaTracker.attach(document.getElementById("video"), {{apiUrl: "{api}", videoId: {id}}});
</script>
<script>
  const video = document.getElementById("video");
  window.measured = {{}};
  window.watch = () => {{ window.measured.requested = performance.now(); return video.play(); }};
  video.addEventListener("playing", (e) => {{ window.measured.playing ??= e.timeStamp; }});
</script>"""
# The embed page's own measurement of its startup (play requested -> first frame): when the events
# happened, their time stamps. These listeners come after the SDK's and hls.js's; reading the clock
# in them would count what those did in between (the view's request, a tick of hls.js), which on a
# loaded machine is hundreds of ms.
MEASURE_EMBED = """() => {
    const video = document.getElementById("player");
    window.measured = {};
    video.addEventListener("play", (e) => { window.measured.requested ??= e.timeStamp; });
    video.addEventListener("playing", (e) => { window.measured.playing ??= e.timeStamp; });
}"""
# The page's own measurement of its stalls (waiting -> playing, seeks left out).
STALL_WATCH = """() => {
    const video = document.getElementById("video");
    window.stalls = [];
    window.waitingSince = 0;
    video.addEventListener("waiting", () => { if (!video.seeking) window.waitingSince = performance.now(); });
    video.addEventListener("playing", () => {
        if (window.waitingSince) window.stalls.push(performance.now() - window.waitingSince);
        window.waitingSince = 0;
    });
}"""


def make_clip(path: Path, *, seconds: int = 12, size: str = "640x360") -> Path:
    """An H.264/AAC MP4 with a keyframe every second and its index first (``faststart``), as players like it."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-b:v", "600k",
         "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path


def make_hls(folder: Path, clip: Path) -> Path:
    """The clip as HLS (MPEG-TS segments of 2 s) under ``folder``, behind a master playlist naming its one
    rendition's bandwidth, resolution and codecs (:func:`make_clip`'s: H.264 Constrained Baseline 3.0,
    AAC-LC), as hls.js expects; returns the master playlist."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c", "copy", "-f", "hls", "-hls_time", "2",
         "-hls_playlist_type", "vod", "-hls_segment_filename", str(folder / "360p_%03d.ts"), str(folder / "360p.m3u8")],
        check=True, timeout=120,
    )  # fmt: skip
    master = folder / "master.m3u8"
    master.write_text(
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"\n360p.m3u8\n'
    )
    return master


def make_ready(video_id: int) -> None:
    """Give a registered video its HLS ladder now, as the ladder function does after ingest (ffmpeg, the
    media bucket of the current settings), and let pages of any origin fetch its segments (bucket CORS)."""
    from chalicelib.adapters.aws import client
    from chalicelib.config import get_settings
    from chalicelib.services import transcoding

    outcome = transcoding.make_ladder(video_id)
    assert outcome not in ("failed", "skipped"), outcome
    rule = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 600}
    client("s3").put_bucket_cors(Bucket=get_settings().media_bucket, CORSConfiguration={"CORSRules": [rule]})


def make_poster(clip: Path, path: Path) -> Path:
    """A JPEG of the clip's frame at 1 s, as the thumbnail function makes it."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "1", "-i", str(clip), "-frames:v", "1", str(path)],
        check=True,
        timeout=60,
    )
    return path


def artifacts(name: str) -> Path:
    """A folder for what a test leaves for people to look at (screenshots): ``$TEST_ARTIFACTS_DIR/<name>``,
    by default ``build/test-artifacts/<name>`` in the repository."""
    root = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "build" / "test-artifacts"))
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_for(
    probe: Callable[[], T | None], *, page: Any = None, timeout: float = 30, every: float = 0.1, what: str = "it"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds.

    With ``page``, the wait is Playwright's: its sync API hands a page's events (requests,
    console messages) to their handlers only while a Playwright call is running.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        if page is not None:
            page.wait_for_timeout(every * 1000)
        else:
            time.sleep(every)


@dataclass
class TrackingLog:
    """Every tracking request a page sent (fetches and beacons), as the items of the contract:
    ``{"kind": "view"|"heartbeat"|"event", ...fields}`` in the order they left, batches unpacked."""

    requests: list[tuple[str, Any]] = field(default_factory=list)

    def watch(self, page: Any) -> Any:
        page.on("request", self._record)
        return page

    def _record(self, request: Any) -> None:
        if TRACK not in request.url or request.method != "POST":
            return
        path = request.url.split(TRACK, 1)[1].split("?")[0]
        self.requests.append((path, json.loads(request.post_data or "null")))

    def items(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for path, body in list(self.requests):
            if path == "batch":
                found.extend(body["events"])
            else:
                found.append({"kind": path, **body})
        return found

    def of(self, kind: str, **fields: Any) -> list[dict[str, Any]]:
        return [
            item
            for item in self.items()
            if item["kind"] == kind and all(item.get(name) == value for name, value in fields.items())
        ]


@dataclass
class Stall:
    """Hold the answer of the first request for ``path`` that crosses byte ``at`` until the test calls
    :meth:`release` (a network that stops for a while); later requests are answered at once."""

    path: str
    at: int
    done: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


def site_handler(directory: Path, stall: Stall | None = None) -> type[BaseHTTPRequestHandler]:
    """Serves the files of ``directory`` with HTTP Range, as a media host does (Python's own file server
    ignores Range, and a browser then cannot seek in a video it serves)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            name = self.path.split("?")[0].lstrip("/")
            target = (directory / name).resolve()
            if directory.resolve() not in target.parents or not target.is_file():
                self.send_error(404)
                return
            data = target.read_bytes()
            start, end, status = self._range(len(data))
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPES.get(target.suffix, "application/octet-stream"))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            try:
                if stall and name == stall.path and start < stall.at <= end and not stall.done.is_set():
                    stall.done.set()
                    self.wfile.write(data[start : stall.at])
                    self.wfile.flush()
                    stall.released.wait(timeout=60)
                    start = stall.at
                self.wfile.write(data[start : end + 1])
            except (BrokenPipeError, ConnectionResetError):  # the browser gave up on this request
                return

        def _range(self, size: int) -> tuple[int, int, int]:
            wanted = self.headers.get("Range", "")
            if not wanted.startswith("bytes="):
                return 0, size - 1, 200
            first, _, last = wanted[6:].partition("-")
            return int(first or 0), min(size - 1, int(last)) if last else size - 1, 206

    return Handler


CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".mp4": "video/mp4",
    ".js": "text/javascript",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
}


class Tabs:
    """Tabs of one browser, each a context of its own (a viewer), closed after the test."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.pages: list[Any] = []

    def open(self, url: str, log: TrackingLog, errors: ConsoleErrors | None = None, *, ready: bool = True) -> Any:
        """A new tab on ``url``, its tracking logged, once its video can play (with ``ready``)."""
        page = log.watch(self.browser.new_page())
        self.pages.append(page)
        if errors is not None:
            errors.watch(page)
        page.goto(url)
        if ready:
            page.wait_for_function("document.getElementById('video').readyState >= 3")
        return page

    def close(self) -> None:
        for page in self.pages:
            if not page.is_closed():
                page.close()


def current_time(page: Any) -> float:
    return float(page.evaluate("document.getElementById('video').currentTime"))
