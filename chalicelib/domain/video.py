"""A video of the library as every layer above the database sees it, how a listing is filtered,
and how orientation and quality follow from its dimensions.

The videos repository returns these (never its ORM rows), services pass them on, and
presenters turn them into answers, so nothing above the repositories depends on how a
video is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Video:
    """A video with its descriptive fields, probed media facts and publication state.

    Its analytics figures are not here: they are counted when asked for (:class:`VideoFigures`).
    """

    id: int
    filename: str  # the media object's key in the bucket
    title: str | None
    producer: str | None
    creator: str | None
    thumbnail_url: str | None  # an external image an admin set
    thumbnail_key: str | None  # the poster frame made at ingest, a key in the bucket
    duration: int
    file_size: int
    width: int
    height: int
    orientation: str
    quality: str
    has_audio: bool
    is_published: bool
    scheduled_publish_at: datetime | None
    scheduled_unpublish_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # The rendition ladder: processing until it is made (ready) or cannot be (failed, and why).
    processing_status: str = "processing"
    processing_error: str | None = None


@dataclass(frozen=True)
class VideoFigures:
    """A video's all-time figures at one instant, counted as every report counts them: the refresh's
    roll-ups plus the raw views since its last fold, so a view is in every answer as soon as it is stored."""

    views: int = 0
    watch_time_seconds: int = 0
    completed_views: int = 0
    unique_viewers: int = 0
    unique_viewers_exact: bool = True

    @property
    def average_watch_time_seconds(self) -> float:
        return round(self.watch_time_seconds / self.views, 2) if self.views else 0.0

    @property
    def completion_rate(self) -> float:
        return round(self.completed_views * 100 / self.views, 2) if self.views else 0.0


@dataclass(frozen=True)
class VideoFilters:
    """One page of a listing: the filters a caller sent, newest first."""

    published: bool | None = None
    orientation: str | None = None
    quality: str | None = None
    search: str | None = None
    limit: int = 20
    offset: int = 0


def derive_orientation(width: int, height: int) -> str:
    """H (landscape or square) when width >= height, else V."""
    return "H" if width >= height else "V"


def derive_quality(width: int, height: int) -> str:
    """Quality class by the shorter side: <720 SD, <1080 HD, <2160 FHD, else UHD."""
    shorter = min(width, height)
    if shorter < 720:
        return "SD"
    if shorter < 1080:
        return "HD"
    if shorter < 2160:
        return "FHD"
    return "UHD"
