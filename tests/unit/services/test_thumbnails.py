"""Thumbnail keys follow video keys: one key per video, however often it is made."""

from __future__ import annotations


def test_thumbnail_keys_follow_video_keys() -> None:
    from chalicelib.services.thumbnails import thumbnail_key

    assert thumbnail_key("videos/0a1b/My-clip.mp4") == "thumbnails/0a1b/My-clip.jpg"
    assert thumbnail_key("library/launch.mov") == "thumbnails/library/launch.jpg"
