"""The ladder's rules: rungs by the short side, never above the source, even sides, portrait kept."""

from __future__ import annotations

import pytest

from chalicelib.domain.ladder import LadderError, Source, h264_level, plan


def sizes(source: Source) -> list[tuple[str, int, int]]:
    return [(rung.name, rung.width, rung.height) for rung in plan(source)]


def test_a_1080p_landscape_source_gets_the_four_standard_rungs() -> None:
    assert sizes(Source(1920, 1080, has_audio=True)) == [
        ("360p", 640, 360),
        ("540p", 960, 540),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ]


def test_portrait_keeps_portrait_with_rungs_by_its_short_side() -> None:
    assert sizes(Source(1080, 1920, has_audio=True)) == [
        ("360p", 360, 640),
        ("540p", 540, 960),
        ("720p", 720, 1280),
        ("1080p", 1080, 1920),
    ]


def test_no_rung_is_above_the_source_and_4k_stops_at_1080p() -> None:
    assert [r.name for r in plan(Source(1280, 720, has_audio=True))] == ["360p", "540p", "720p"]
    assert [r.name for r in plan(Source(3840, 2160, has_audio=True))] == ["360p", "540p", "720p", "1080p"]


def test_a_480p_source_gets_no_720p_but_a_rung_at_its_own_size() -> None:
    assert sizes(Source(854, 480, has_audio=True)) == [("360p", 640, 360), ("480p", 854, 480)]


def test_a_source_just_above_a_rung_gets_no_extra_rung() -> None:
    assert [r.name for r in plan(Source(1422, 800, has_audio=True))] == ["360p", "540p", "720p"]


def test_a_tiny_source_gets_one_rung_at_its_own_size_made_even() -> None:
    (rung,) = plan(Source(321, 241, has_audio=False))
    assert (rung.width, rung.height) == (320, 240)
    assert rung.width % 2 == 0 and rung.height % 2 == 0


@pytest.mark.parametrize(("width", "height"), [(1918, 1078), (1081, 1921), (1279, 719), (997, 561), (720, 1281)])
def test_every_dimension_is_even_and_the_aspect_is_kept(width: int, height: int) -> None:
    for rung in plan(Source(width, height, has_audio=True)):
        assert rung.width % 2 == 0 and rung.height % 2 == 0
        assert abs(rung.width / rung.height - width / height) < 0.02
        assert rung.width <= width + 1 and rung.height <= height + 1


def test_codecs_name_h264_high_at_its_level_and_aac_lc_only_with_audio() -> None:
    with_audio = plan(Source(1920, 1080, has_audio=True))
    assert [rung.codecs for rung in with_audio] == [
        "avc1.64001e,mp4a.40.2",
        "avc1.64001f,mp4a.40.2",
        "avc1.64001f,mp4a.40.2",
        "avc1.640028,mp4a.40.2",
    ]
    silent = plan(Source(1920, 1080, has_audio=False))
    assert all(rung.codecs.startswith("avc1.64") and "mp4a" not in rung.codecs for rung in silent)
    assert all(rung.audio_kbps == 0 for rung in silent)


def test_bitrates_grow_with_the_rung_and_a_peak_stays_within_110_percent() -> None:
    rungs = plan(Source(1920, 1080, has_audio=True))
    assert [rung.video_kbps for rung in rungs] == sorted(rung.video_kbps for rung in rungs)
    assert all(rung.peak_video_kbps <= rung.video_kbps * 1.1 + 1 for rung in rungs)


def test_60_fps_keeps_its_rate_from_720p_with_more_bits_and_halves_below() -> None:
    rungs = {rung.name: rung for rung in plan(Source(1920, 1080, has_audio=True, frame_rate=59.94))}
    assert rungs["360p"].frame_rate == 29.97 and rungs["540p"].frame_rate == 29.97
    assert rungs["720p"].frame_rate == 59.94 and rungs["720p"].video_kbps == 4500
    assert rungs["1080p"].level == "4.2"


def test_h264_levels_follow_the_picture_size_and_rate() -> None:
    assert h264_level(640, 360, 30) == "3.0"
    assert h264_level(1280, 720, 30) == "3.1"
    assert h264_level(1920, 1080, 30) == "4.0"
    assert h264_level(1080, 1920, 30) == "4.0"


def test_no_picture_is_refused() -> None:
    with pytest.raises(LadderError):
        plan(Source(0, 0, has_audio=True))
