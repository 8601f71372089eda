"""Playing a video's ``playbackUrl`` as a frontend does: hls.js (loaded from the API) on a page of an
allowed origin, in headless Chromium, until it really plays.

Playing means: hls.js raised no fatal error, the element reached ``readyState`` >= 3 (it has data
beyond the current frame) with ``currentTime`` past 0.3 s, and ``currentTime`` then advanced by
another half second. Every request the page made to a playlist or a rendition is recorded with its
status, so a test can say where the bytes came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.browser import ConsoleErrors, chromium, static_site

BLANK_PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>frontend</title>
<div id="player"></div>"""
WAIT_MS = 60_000
# The start of every page script here (its arguments name ``api`` and ``wait``): ``until(done, what)`` polls
# for up to ``wait`` ms, and hls.js is loaded from the API as a page of a frontend loads it.
PRELUDE = """
    const until = async (done, what) => {
        const deadline = performance.now() + wait;
        while (!done()) {
            if (performance.now() > deadline) throw new Error("timed out waiting for " + what);
            await new Promise(resolve => setTimeout(resolve, 50));
        }
    };
    await new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = api + "/api/assets/hls.js";
        script.onload = resolve;
        script.onerror = () => reject(new Error("hls.js did not load"));
        document.head.appendChild(script);
    });
"""
PLAY = (
    "async ({api, url, wait}) => {"
    + PRELUDE
    + """
    const video = document.createElement("video");
    video.muted = true;
    document.getElementById("player").appendChild(video);
    const hls = new Hls();
    let fatal = null;
    hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) fatal = data.type + ":" + data.details; });
    const levels = await new Promise(resolve => {
        hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => resolve(data.levels.map(l => [l.width, l.height])));
        hls.loadSource(url);
        hls.attachMedia(video);
    });
    await video.play();
    await until(() => fatal || (video.readyState >= 3 && video.currentTime > 0.3), "playback");
    if (fatal) throw new Error(fatal);
    const playedFrom = video.currentTime;
    await until(() => fatal || video.currentTime > playedFrom + 0.5, "currentTime to advance");
    if (fatal) throw new Error(fatal);
    return {levels, readyState: video.readyState, playedFrom, position: video.currentTime,
            size: [video.videoWidth, video.videoHeight], duration: video.duration};
}"""
)


@dataclass
class Played:
    """What the page saw: the player's state once it played, and each playlist and media response."""

    state: dict[str, Any]
    playlists: list[tuple[str, int]] = field(default_factory=list)
    media: list[tuple[str, int]] = field(default_factory=list)
    errors: ConsoleErrors = field(default_factory=ConsoleErrors)


@contextmanager
def frontend_site(directory: Path) -> Iterator[str]:
    """A blank page served from its own origin (allow it in ``CORS_ALLOWED_ORIGINS``); yields the origin."""
    (directory / "index.html").write_text(BLANK_PAGE)
    with static_site(directory) as origin:
        yield origin


def play(site: str, api: str, playback_url: str) -> Played:
    """Open ``site``'s page in a fresh headless Chromium and play ``playback_url`` with the API's hls.js."""
    with chromium() as browser:
        played = Played(state={})
        page = played.errors.watch(browser.new_page())

        def on_response(response: Any) -> None:
            if "/api/playback/" in response.url:
                played.playlists.append((response.url, response.status))
            elif "/renditions/" in response.url:
                played.media.append((response.url, response.status))

        page.on("response", on_response)
        page.goto(f"{site}/index.html")
        played.state = page.evaluate(PLAY, {"api": api, "url": playback_url, "wait": WAIT_MS})
    return played
