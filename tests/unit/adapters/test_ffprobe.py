"""Reading ffprobe's answer: rotation, orientation, quality, and what is not a video."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters import ffprobe
from chalicelib.domain.errors import Unprocessable


def _stream(**extra: Any) -> dict[str, Any]:
    return {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080, **extra}


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (_stream(tags={"rotate": "90"}), (1080, 1920, "V")),  # ffprobe < 5 reports the legacy tag
        (_stream(tags={"rotate": "180"}), (1920, 1080, "H")),
        (_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": -90}]), (1080, 1920, "V")),
        (_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": 270}]), (1080, 1920, "V")),
        (_stream(), (1920, 1080, "H")),
    ],
)
def test_rotation_sources(stream: dict[str, Any], expected: tuple[int, int, str]) -> None:
    meta = ffprobe.parse_probe_output({"streams": [stream], "format": {"format_name": "mov,mp4", "duration": "9.6"}})
    assert (meta.width, meta.height, meta.orientation) == expected
    assert meta.duration == 10


def test_quality_by_shorter_side() -> None:
    def quality(width: int, height: int) -> str:
        output = {"streams": [_stream(width=width, height=height)], "format": {"duration": "1"}}
        return ffprobe.parse_probe_output(output).quality

    assert [quality(1280, 719), quality(720, 1280), quality(1920, 1079), quality(1080, 1920)] == [
        "SD",
        "HD",
        "HD",
        "FHD",
    ]
    assert [quality(3840, 2159), quality(3840, 2160), quality(2160, 2160)] == ["FHD", "UHD", "UHD"]


def test_audio_only_and_cover_art_are_not_videos() -> None:
    audio = {"streams": [{"codec_type": "audio"}], "format": {"duration": "3"}}
    cover = {
        "streams": [{"codec_type": "audio"}, _stream(codec_name="mjpeg", disposition={"attached_pic": 1})],
        "format": {"format_name": "mp3", "duration": "3"},
    }
    for output in (audio, cover):
        with pytest.raises(Unprocessable):
            ffprobe.parse_probe_output(output)
