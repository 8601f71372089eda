"""Playlists: measuring what a transcoder wrote, the master playlist, and signing every URI."""

from __future__ import annotations

import pytest

from chalicelib.domain.hls import PlaylistError, Variant, master_playlist, read_media_playlist, rewrite_uris

# What ffmpeg's HLS muxer writes for a one-file rung (`-hls_flags single_file`).
ONE_FILE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:6.000000,
#EXT-X-BYTERANGE:750000@0
360p.ts
#EXTINF:6.000000,
#EXT-X-BYTERANGE:600000@750000
360p.ts
#EXTINF:0.400000,
#EXT-X-BYTERANGE:90000@1350000
360p.ts
#EXT-X-ENDLIST
"""


def test_a_one_file_rung_is_measured_from_its_byte_ranges() -> None:
    playlist = read_media_playlist(ONE_FILE)
    assert playlist.segment_count == 3
    assert playlist.duration_seconds == pytest.approx(12.4)
    assert playlist.uris == ("360p.ts",)
    assert playlist.peak_bps == 1_000_000  # 750,000 bytes in 6 s; the 0.4 s scrap does not count
    assert playlist.average_bps == pytest.approx(1_440_000 * 8 / 12.4, abs=1)


def test_separate_segment_files_and_an_init_section_are_all_named() -> None:
    text = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6,\na.m4s\n#EXTINF:5,\nb.m4s\n#EXT-X-ENDLIST\n'
    playlist = read_media_playlist(text)
    assert playlist.uris == ("init.mp4", "a.m4s", "b.m4s")
    assert playlist.peak_bps is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "#EXTINF:6,\na.ts\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXTINF:6,\na.ts\n",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n#EXT-X-ENDLIST\n",
        "#EXTM3U\na.ts\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXT-X-ENDLIST\n",
    ],
)
def test_anything_but_a_finished_media_playlist_is_refused(text: str) -> None:
    with pytest.raises(PlaylistError):
        read_media_playlist(text)


def test_the_master_playlist_lists_every_variant_lowest_first_with_its_attributes() -> None:
    text = master_playlist(
        [
            Variant("720p.m3u8", 3_500_000, 3_100_000, 1280, 720, "avc1.64001f,mp4a.40.2", 25.0),
            Variant("360p.m3u8", 1_000_000, None, 640, 360, "avc1.64001e,mp4a.40.2", None),
        ]
    )
    assert text.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:4",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"',
        "360p.m3u8",
        "#EXT-X-STREAM-INF:BANDWIDTH=3500000,AVERAGE-BANDWIDTH=3100000,RESOLUTION=1280x720,"
        'CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=25.000',
        "720p.m3u8",
    ]


def test_every_uri_is_resolved_once_per_distinct_name() -> None:
    calls: list[str] = []

    def sign(uri: str) -> str:
        calls.append(uri)
        return f"https://media.test/v/{uri}?sig=1"

    text = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n' + ONE_FILE.removeprefix("#EXTM3U\n")
    rewritten = rewrite_uris(text, sign)
    assert calls == ["init.mp4", "360p.ts"]
    assert '#EXT-X-MAP:URI="https://media.test/v/init.mp4?sig=1"' in rewritten
    assert rewritten.count("https://media.test/v/360p.ts?sig=1") == 3
    assert "\n360p.ts" not in rewritten
    assert rewritten.count("#EXTINF") == 3 and rewritten.endswith("#EXT-X-ENDLIST\n")
