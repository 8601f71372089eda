"""Rows to JSON: the seed's camelCase field names, ISO 8601 UTC times with ``Z``,
and numbers as JSON numbers (``fileSize`` and the decimals too)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalicelib import timestamps
from chalicelib.db.models import Video


def iso_utc(value: datetime | None) -> str | None:
    return None if value is None else timestamps.iso_utc(value)


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def number(value: Decimal | int | float | None) -> int | float:
    """A JSON number: ints stay ints, decimals become floats rounded to 2 places."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return round(float(value), 2)


def video_json(video: Video) -> dict[str, Any]:
    return {
        "id": video.id,
        "filename": video.filename,
        "title": video.title,
        "producer": video.producer,
        "creator": video.creator,
        "thumbnailUrl": video.thumbnail_url,
        "duration": video.duration,
        "fileSize": int(video.file_size),
        "width": video.width,
        "height": video.height,
        "orientation": video.orientation,
        "quality": video.quality,
        "hasAudio": video.has_audio,
        "isPublished": video.is_published,
        "scheduledPublishAt": iso_utc(video.scheduled_publish_at),
        "scheduledUnpublishAt": iso_utc(video.scheduled_unpublish_at),
        "uniqueViewers": video.unique_viewers,
        "totalWatchTimeSeconds": int(video.total_watch_time_seconds),
        "averageWatchTimeSeconds": number(video.average_watch_time_seconds),
        "completionRate": number(video.completion_rate),
        "createdAt": iso_utc(video.created_at),
        "updatedAt": iso_utc(video.updated_at),
    }
