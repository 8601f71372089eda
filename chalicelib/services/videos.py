"""The video library: listing, registering, editing and deleting videos."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from chalicelib.db.engine import session_scope, snapshot
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.video import Video, VideoFigures, VideoFilters, derive_orientation, derive_quality
from chalicelib.repositories import tombstones as tombstones_repo
from chalicelib.repositories import videos as videos_repo

EDITABLE_FIELDS = ("title", "producer", "creator", "thumbnail_url", "is_published")


@dataclass(frozen=True)
class NewVideo:
    filename: str
    duration: int
    file_size: int
    width: int
    height: int
    title: str | None = None
    producer: str | None = None
    creator: str | None = None
    thumbnail_url: str | None = None
    has_audio: bool = True
    orientation: str | None = None
    quality: str | None = None
    is_published: bool = False


def stored_thumbnail_url(url: str | None) -> str | None:
    """An admin-supplied thumbnail URL as it is stored: one of our own media URLs (a signed poster
    frame sent back by a GET-then-PATCH round trip) without its expiring signature, answers signing
    it again; any other URL as given."""
    from chalicelib.adapters import url_signing

    return url_signing.without_signature(url) if url else url


@dataclass(frozen=True)
class Page:
    """One page of a listing, the total that matched, and (for admins) each listed video's figures."""

    videos: list[Video]
    total: int
    figures: dict[int, VideoFigures] = field(default_factory=dict)


def list_videos(filters: VideoFilters, *, is_admin: bool) -> Page:
    """Public callers only ever see published videos, whatever filter they send; admins get the page's
    figures too, counted in one statement for the whole page."""
    if not is_admin:
        filters = replace(filters, published=True)
    with session_scope() as session:
        videos, total = videos_repo.list_videos(session, filters)
    return Page(videos, total, figures_of(videos) if is_admin else {})


def figures_of(videos: Iterable[Video]) -> dict[int, VideoFigures]:
    """The videos' all-time figures now, as the list and the reports count them (admins' answers)."""
    from chalicelib.services.analytics.current import figures_of_videos

    with snapshot() as connection:  # where and as the reports read theirs
        return figures_of_videos(connection, (video.id for video in videos))


def figures_of_one(video: Video) -> VideoFigures:
    return figures_of([video]).get(video.id, VideoFigures())


def get_video(video_id: int, *, is_admin: bool) -> Video:
    with session_scope() as session:
        video = videos_repo.get(session, video_id)
    if video is None or not (video.is_published or is_admin):
        raise NotFound("Video not found")
    return video


def create_video(new: NewVideo) -> Video:
    """Register a video; 409 when its filename is already in the library."""
    values = {
        **asdict(new),
        "thumbnail_url": stored_thumbnail_url(new.thumbnail_url),
        "orientation": new.orientation or derive_orientation(new.width, new.height),
        "quality": new.quality or derive_quality(new.width, new.height),
    }
    try:
        with session_scope() as session:
            if videos_repo.filename_taken(session, new.filename):
                raise Conflict(f"A video with filename '{new.filename}' already exists")
            return videos_repo.add(session, values)
    except IntegrityError as exc:  # a concurrent insert won the race for the filename
        raise Conflict(f"A video with filename '{new.filename}' already exists") from exc


def update_video(video_id: int, changes: dict[str, Any]) -> Video:
    """Change the editable fields among ``changes`` (others are ignored); 404 when there is no such video."""
    editable = {name: value for name, value in changes.items() if name in EDITABLE_FIELDS}
    if "thumbnail_url" in editable:
        editable["thumbnail_url"] = stored_thumbnail_url(editable["thumbnail_url"])
    with session_scope() as session:
        video = videos_repo.update_fields(session, video_id, editable)
    if video is None:
        raise NotFound("Video not found")
    return video


def delete_video(video_id: int) -> None:
    """Delete a video with its views, events and schedule history (FK cascades) and its roll-ups,
    and bury it, so nothing brings it back; then remove its media and its pending schedules
    (see :mod:`chalicelib.services.media_removal`)."""
    from chalicelib.services import media_removal
    from chalicelib.services.analytics.maintenance import forget_video

    with session_scope() as session:
        video = videos_repo.get(session, video_id)
        if video is None:
            raise NotFound("Video not found")
        tombstones_repo.lock_key(session, video.filename)  # the lock ingest takes on the same key
        # Roll-ups are keyed by scope, not foreign keys (the library's are scope 0): removed here.
        forget_video(session.connection(), video_id)
        if not videos_repo.delete(session, video_id):
            raise NotFound("Video not found")
        tombstones_repo.bury(session, video_id, video.filename, video.thumbnail_key)
    media_removal.purge(video_id, video.filename, video.thumbnail_key)
    media_removal.cancel_schedules(video_id)
