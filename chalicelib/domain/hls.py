"""HLS playlists: reading what a transcoder wrote, writing the master playlist, signing media URIs.

A transcoder writes one media playlist per rung whose segments name their media file
by a relative URI (every rung is one file read by byte ranges). Those playlists are
stored with the video; when a player asks for one, every URI is replaced by a signed
absolute URL, because a relative URI would lose the playlist's own signature.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MASTER_VERSION = 4  # EXT-X-BYTERANGE needs version 4
_URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')
_EXTINF = re.compile(r"#EXTINF:([0-9.]+)")
_BYTERANGE = re.compile(r"#EXT-X-BYTERANGE:(\d+)(?:@(\d+))?")
# A segment shorter than this share of the target duration (a video's last scraps) does not set the peak.
PEAK_SEGMENT_SHARE = 0.5


class PlaylistError(ValueError):
    """A transcoder's playlist is not a complete VOD media playlist."""


@dataclass(frozen=True)
class Variant:
    """One entry of a master playlist."""

    uri: str
    bandwidth: int
    average_bandwidth: int | None
    width: int
    height: int
    codecs: str
    frame_rate: float | None


@dataclass(frozen=True)
class MediaPlaylist:
    """What a stored media playlist says about its rung."""

    duration_seconds: float
    segment_count: int
    uris: tuple[str, ...]  # every distinct relative URI it names (media files, init sections)
    peak_bps: int | None  # None: no byte ranges to measure by
    average_bps: int | None


def read_media_playlist(text: str) -> MediaPlaylist:
    """Check a VOD media playlist and measure it; :class:`PlaylistError` when it is not one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("not an HLS playlist (no #EXTM3U)")
    if "#EXT-X-ENDLIST" not in lines:
        raise PlaylistError("the playlist has no #EXT-X-ENDLIST: the transcoder did not finish it")
    if any(line.startswith("#EXT-X-STREAM-INF") for line in lines):
        raise PlaylistError("a master playlist where a media playlist was expected")
    segments: list[tuple[float, int | None]] = []
    uris: list[str] = []
    duration: float | None = None
    size: int | None = None
    for line in lines:
        if match := _EXTINF.match(line):
            duration = float(match.group(1))
        elif match := _BYTERANGE.match(line):
            size = int(match.group(1))
        elif line.startswith("#"):
            uris.extend(_URI_ATTRIBUTE.findall(line))
        else:
            if duration is None:
                raise PlaylistError(f"segment {line!r} has no #EXTINF")
            segments.append((duration, size))
            uris.append(line)
            duration, size = None, None
    if not segments:
        raise PlaylistError("the playlist names no segment")
    total = sum(seconds for seconds, _ in segments)
    peak, average = _rates(segments, total)
    return MediaPlaylist(total, len(segments), tuple(dict.fromkeys(uris)), peak, average)


def _rates(segments: list[tuple[float, int | None]], total_seconds: float) -> tuple[int | None, int | None]:
    if any(size is None for _, size in segments) or total_seconds <= 0:
        return None, None
    sized = [(seconds, size or 0) for seconds, size in segments if seconds > 0]
    longest = max(seconds for seconds, _ in sized)
    counted = [(s, b) for s, b in sized if s >= longest * PEAK_SEGMENT_SHARE] or sized
    peak = max(math.ceil(size * 8 / seconds) for seconds, size in counted)
    average = math.ceil(sum(size for _, size in sized) * 8 / total_seconds)
    return peak, average


def master_playlist(variants: Iterable[Variant]) -> str:
    """A master playlist listing ``variants`` lowest bandwidth first (hls.js and Safari start low)."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{MASTER_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in sorted(variants, key=lambda v: (v.bandwidth, v.width * v.height)):
        attributes = [f"BANDWIDTH={variant.bandwidth}"]
        if variant.average_bandwidth:
            attributes.append(f"AVERAGE-BANDWIDTH={variant.average_bandwidth}")
        attributes += [f"RESOLUTION={variant.width}x{variant.height}", f'CODECS="{variant.codecs}"']
        if variant.frame_rate:
            attributes.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), variant.uri]
    return "\n".join(lines) + "\n"


def rewrite_uris(text: str, resolve: Callable[[str], str]) -> str:
    """The playlist with every URI (segment lines, ``URI="..."`` attributes) replaced by ``resolve(uri)``.

    ``resolve`` is called once per distinct URI, so a one-file rung costs one signature.
    """
    resolved: dict[str, str] = {}

    def url(uri: str) -> str:
        if uri not in resolved:
            resolved[uri] = resolve(uri)
        return resolved[uri]

    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            out.append(_URI_ATTRIBUTE.sub(lambda m: f'URI="{url(m.group(1))}"', stripped))
        else:
            out.append(url(stripped))
    return "\n".join(out) + "\n"
