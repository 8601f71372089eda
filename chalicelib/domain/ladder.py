"""The rendition ladder: which H.264/AAC variants a source becomes, whatever transcoder makes them.

Rungs are named by the picture's SHORT side (360p, 540p, 720p, 1080p), so a portrait
phone clip keeps its shape and its full resolution: a 1080x1920 source gives
360x640, 540x960, 720x1280 and 1080x1920. No rung is larger than the source; a source
whose short side lies well above the highest standard rung it reaches (a 480p clip)
also gets a rung at its own size, and one smaller than 360p gets only that one.
Every dimension is even (what 4:2:0 encoders need). The dimensions are those the
viewer sees, rotation applied.

Every variant is H.264 High, yuv420p 8-bit, with AAC-LC stereo muxed in (none when the
source has no audio), keyframes every :data:`GOP_SECONDS` on the same instants in every
rung (a fixed GOP, no scene-cut keyframes), cut into :data:`SEGMENT_SECONDS` segments,
so a player can switch rungs at any segment boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Short side -> video bitrate (kbit/s) at up to 30 frames per second.
STANDARD_RUNGS: tuple[tuple[int, int], ...] = ((360, 800), (540, 1600), (720, 3000), (1080, 5500))
# A source whose short side is this much above the highest standard rung it reaches gets its own rung too.
NATIVE_RUNG_MARGIN = 1.15
# Above this frame rate a rung needs more bits; below 720p it is halved instead (phones record 60).
HIGH_FRAME_RATE = 30.5
HIGH_FRAME_RATE_FACTOR = 1.5
# Peak (VBV maxrate) and decoder buffer as multiples of the target bitrate (Apple's HLS authoring spec: <= 110%).
PEAK_FACTOR = 1.1
BUFFER_FACTOR = 1.5
AUDIO_KBPS = 128
AUDIO_SAMPLE_RATE = 48_000
AUDIO_CHANNELS = 2
AUDIO_CODEC = "mp4a.40.2"  # AAC-LC
H264_PROFILE = "high"
H264_PROFILE_IDC = 0x64  # High
PIXEL_FORMAT = "yuv420p"
GOP_SECONDS = 2
SEGMENT_SECONDS = 6
# H.264 levels (Annex A): (level, max macroblocks per second, max frame size in macroblocks).
H264_LEVELS: tuple[tuple[str, int, int], ...] = (
    ("3.0", 40_500, 1_620),
    ("3.1", 108_000, 3_600),
    ("3.2", 216_000, 5_120),
    ("4.0", 245_760, 8_192),
    ("4.2", 522_240, 8_704),
    ("5.0", 589_824, 22_080),
    ("5.1", 983_040, 36_864),
)


class LadderError(ValueError):
    """The source cannot have a ladder (no picture, nonsense dimensions)."""


@dataclass(frozen=True)
class Source:
    """What the ladder needs to know about an upload, as the viewer sees it (rotation applied)."""

    width: int
    height: int
    has_audio: bool
    frame_rate: float | None = None  # None: unknown, taken as at most 30 fps


@dataclass(frozen=True)
class Rung:
    """One variant of the ladder."""

    name: str  # "720p": the short side
    width: int
    height: int
    video_kbps: int
    frame_rate: float | None  # None: the source's own (unknown)
    level: str  # H.264 level, e.g. "3.1"
    has_audio: bool

    @property
    def peak_video_kbps(self) -> int:
        return math.ceil(self.video_kbps * PEAK_FACTOR)

    @property
    def buffer_kbits(self) -> int:
        return math.ceil(self.video_kbps * BUFFER_FACTOR)

    @property
    def audio_kbps(self) -> int:
        return AUDIO_KBPS if self.has_audio else 0

    @property
    def codecs(self) -> str:
        """The RFC 6381 ``CODECS`` value of the variant: ``avc1.64001f,mp4a.40.2``."""
        video = f"avc1.{H264_PROFILE_IDC:02x}00{level_idc(self.level):02x}"
        return f"{video},{AUDIO_CODEC}" if self.has_audio else video

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


def plan(source: Source) -> tuple[Rung, ...]:
    """The source's rungs, smallest first; :class:`LadderError` when it has no usable picture."""
    if source.width < 2 or source.height < 2:
        raise LadderError(f"the video's picture is {source.width}x{source.height}, too small to transcode")
    short = min(source.width, source.height)
    rungs = [(side, kbps) for side, kbps in STANDARD_RUNGS if side <= short]
    if _needs_own_rung(short, [side for side, _ in rungs]):
        rungs.append((_even_down(short), _interpolated_kbps(short)))
    return tuple(_rung(source, side, kbps) for side, kbps in rungs)


def _needs_own_rung(short_side: int, standard_sides: list[int]) -> bool:
    """Below 360p, or well above the highest standard rung reached (short of 1080p)."""
    if not standard_sides:
        return True
    return standard_sides[-1] * NATIVE_RUNG_MARGIN <= short_side < STANDARD_RUNGS[-1][0]


def _rung(source: Source, short_side: int, kbps: int) -> Rung:
    width, height = _scaled(source.width, source.height, short_side)
    frame_rate = source.frame_rate
    if frame_rate is not None and frame_rate > HIGH_FRAME_RATE:
        if short_side < 720:
            frame_rate = frame_rate / 2
        else:
            kbps = round(kbps * HIGH_FRAME_RATE_FACTOR)
    return Rung(
        name=f"{short_side}p",
        width=width,
        height=height,
        video_kbps=kbps,
        frame_rate=round(frame_rate, 3) if frame_rate is not None else None,
        level=h264_level(width, height, frame_rate or 30.0),
        has_audio=source.has_audio,
    )


def _scaled(width: int, height: int, short_side: int) -> tuple[int, int]:
    """The source's aspect with its short side at ``short_side``, both sides even."""
    if width <= height:
        return short_side, _even_nearest(height * short_side / width)
    return _even_nearest(width * short_side / height), short_side


def _even_down(value: int) -> int:
    return max(2, value - value % 2)


def _even_nearest(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _interpolated_kbps(short_side: int) -> int:
    """A rung off the standard sizes: bitrate interpolated by pixel count between its neighbours."""
    below = [(side, kbps) for side, kbps in STANDARD_RUNGS if side <= short_side]
    above = [(side, kbps) for side, kbps in STANDARD_RUNGS if side > short_side]
    if not below:  # under 360p: by pixels from the 360p rung
        side, kbps = STANDARD_RUNGS[0]
        return max(150, round(kbps * (short_side / side) ** 2))
    (low_side, low_kbps), (high_side, high_kbps) = below[-1], above[0]
    share = (short_side**2 - low_side**2) / (high_side**2 - low_side**2)
    return round(low_kbps + share * (high_kbps - low_kbps))


def h264_level(width: int, height: int, frame_rate: float) -> str:
    """The lowest H.264 level whose frame size and macroblock rate hold this picture."""
    frame_mbs = math.ceil(width / 16) * math.ceil(height / 16)
    for level, max_mbs_per_second, max_frame_mbs in H264_LEVELS:
        if frame_mbs <= max_frame_mbs and frame_mbs * frame_rate <= max_mbs_per_second:
            return level
    raise LadderError(f"{width}x{height} at {frame_rate:g} fps is beyond H.264 level 5.1")


def level_idc(level: str) -> int:
    """``"3.1"`` -> 31, the byte RFC 6381 writes in hex."""
    major, _, minor = level.partition(".")
    return int(major) * 10 + int(minor or 0)
