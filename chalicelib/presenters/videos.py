"""Videos to answers: every field of a video, with signed stream and thumbnail URLs."""

from __future__ import annotations

from chalicelib.adapters import url_signing
from chalicelib.domain import timestamps
from chalicelib.domain.video import Video
from chalicelib.presenters.formats import iso_utc, number
from chalicelib.schemas.videos import VideoAnswer


def video_fields(video: Video) -> dict[str, object]:
    """The fields every video answer shares, with signed stream and thumbnail URLs.

    Only callers allowed to see a video get its answer (the public only published
    videos), so whoever sees a video may play it.
    """
    stream = url_signing.signed_url(video.filename)
    return {
        "id": video.id,
        "filename": video.filename,
        "title": video.title,
        "producer": video.producer,
        "creator": video.creator,
        "thumbnail_url": thumbnail_url(video),
        "stream_url": stream.url,
        "stream_url_expires_at": timestamps.iso_utc(stream.expires_at),
        "duration": video.duration,
        "file_size": int(video.file_size),
        "width": video.width,
        "height": video.height,
        "orientation": video.orientation,
        "quality": video.quality,
        "has_audio": video.has_audio,
        "is_published": video.is_published,
        "scheduled_publish_at": iso_utc(video.scheduled_publish_at),
        "scheduled_unpublish_at": iso_utc(video.scheduled_unpublish_at),
        "unique_viewers": video.unique_viewers,
        "total_watch_time_seconds": int(video.total_watch_time_seconds),
        "average_watch_time_seconds": number(video.average_watch_time_seconds),
        "completion_rate": number(video.completion_rate),
        "created_at": iso_utc(video.created_at),
        "updated_at": iso_utc(video.updated_at),
    }


def thumbnail_url(video: Video) -> str | None:
    """An admin-set external image as given; else the poster frame made at ingest, signed; else none."""
    if video.thumbnail_url:
        return video.thumbnail_url
    if video.thumbnail_key:
        return url_signing.signed_url(video.thumbnail_key).url
    return None


def video_answer(video: Video) -> VideoAnswer:
    return VideoAnswer.model_validate(video_fields(video))
