"""The one ffmpeg run that makes a whole ladder: decode once, split, scale, encode each rung with
keyframes on the same instants, HLS VOD in 6 s segments, one file per rung."""

from __future__ import annotations

from pathlib import Path

from chalicelib.adapters.ffmpeg_ladder import command
from chalicelib.domain.ladder import Source, plan


def argv(source: Source) -> list[str]:
    return command("https://bucket.test/videos/a.mp4?sig", plan(source), Path("/tmp/out"), preset="veryfast",
                   timeout=840)  # fmt: skip


def value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_one_input_decoded_once_and_split_into_every_rung() -> None:
    args = argv(Source(1920, 1080, has_audio=True, frame_rate=25.0))
    assert args.count("-i") == 1
    graph = value(args, "-filter_complex")
    assert graph.startswith("[0:v:0]split=4[s0][s1][s2][s3];")
    for size in ("640:360", "960:540", "1280:720", "1920:1080"):
        assert f"scale={size}:" in graph
    assert graph.count("format=yuv420p") == 4 and graph.count("setsar=1") == 4


def test_keyframes_are_forced_on_the_same_instants_with_scene_cuts_off() -> None:
    args = argv(Source(1280, 720, has_audio=True))
    assert value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert value(args, "-sc_threshold") == "0"
    assert (value(args, "-c:v"), value(args, "-profile:v"), value(args, "-pix_fmt")) == ("libx264", "high", "yuv420p")
    assert value(args, "-level:v:0") == "3.0" and value(args, "-level:v:2") == "3.1"


def test_hls_vod_in_six_second_segments_one_file_per_rung() -> None:
    args = argv(Source(1280, 720, has_audio=True))
    assert (value(args, "-f"), value(args, "-hls_time"), value(args, "-hls_playlist_type")) == ("hls", "6", "vod")
    assert "single_file" in value(args, "-hls_flags")
    assert value(args, "-var_stream_map") == "v:0,a:0,name:360p v:1,a:1,name:540p v:2,a:2,name:720p"
    assert (value(args, "-c:a"), value(args, "-ac"), value(args, "-ar")) == ("aac", "2", "48000")


def test_a_source_without_audio_maps_no_audio() -> None:
    args = argv(Source(640, 360, has_audio=False))
    assert "0:a:0" not in args and "-c:a" not in args
    assert value(args, "-var_stream_map") == "v:0,name:360p"
