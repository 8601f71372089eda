"""Videos to answers, with signed stream, playback and thumbnail URLs: the public fields for anyone,
why a ladder failed and the analytics figures for admins only."""

from __future__ import annotations

from chalicelib.adapters import url_signing
from chalicelib.domain import timestamps
from chalicelib.domain.video import Video, VideoFigures
from chalicelib.presenters.formats import iso_utc
from chalicelib.schemas.videos import AdminVideo, PublicVideo
from chalicelib.services import playback


def video_fields(video: Video) -> dict[str, object]:
    """The public fields every video answer shares, with signed stream and thumbnail URLs.

    Only callers allowed to see a video get its answer (the public only published
    videos), so whoever sees a video may play it.
    """
    stream = url_signing.signed_url(video.filename)
    playback_url = playback.playback_url(video)
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
        "created_at": iso_utc(video.created_at),
        "updated_at": iso_utc(video.updated_at),
        "processing_status": video.processing_status,
        "playback_url": playback_url.url if playback_url else None,
        "playback_url_expires_at": timestamps.iso_utc(playback_url.expires_at) if playback_url else None,
    }


def figure_fields(video: Video, figures: VideoFigures) -> dict[str, object]:
    """Why the video's ladder failed, and its analytics figures (counted as reports count them): admins only."""
    return {
        "processing_error": video.processing_error,
        "unique_viewers": figures.unique_viewers,
        "total_watch_time_seconds": figures.watch_time_seconds,
        "average_watch_time_seconds": figures.average_watch_time_seconds,
        "completion_rate": figures.completion_rate,
    }


def thumbnail_url(video: Video) -> str | None:
    """An admin-set external image as given (one of our own media objects signed); else the poster frame
    made at ingest, signed; else none."""
    if video.thumbnail_url:
        own = url_signing.media_key_of(video.thumbnail_url)
        return url_signing.signed_url(own).url if own else video.thumbnail_url
    if video.thumbnail_key:
        return url_signing.signed_url(video.thumbnail_key).url
    return None


def admin_video(video: Video, figures: VideoFigures) -> AdminVideo:
    return AdminVideo.model_validate({**video_fields(video), **figure_fields(video, figures)})


def public_video(video: Video) -> PublicVideo:
    return PublicVideo.model_validate(video_fields(video))


def video_answer(video: Video, figures: VideoFigures | None) -> AdminVideo | PublicVideo:
    """The answer for whoever asks: an admin gets the figures, anyone else (``figures`` None) the public fields."""
    return public_video(video) if figures is None else admin_video(video, figures)
