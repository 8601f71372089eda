"""SQL of the rendition ladder: requests, the attempt's lease, results, and the renditions served.

Every write is conditional on the attempt's token and the video's status, so a late or
repeated result (a re-delivered message, a second MediaConvert event, a transcode that
outlived its video) changes nothing: the caller learns it lost and removes its files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, or_, select, text, update

from chalicelib.db.models import Video, VideoRendition

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PROCESSING, READY, FAILED = "processing", "ready", "failed"
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class Claim:
    """An attempt at a video's ladder that holds the lease."""

    video_id: int
    filename: str
    duration: int
    token: str


@dataclass(frozen=True)
class Variant:
    """A ready rendition as the master playlist lists it."""

    name: str
    width: int
    height: int
    codecs: str
    frame_rate: float | None
    bandwidth: int
    average_bandwidth: int | None


@dataclass(frozen=True)
class NewRendition(Variant):
    """A rung a transcoder made: its master-playlist attributes, where its media is, and its playlist."""

    media_prefix: str
    playlist: str


def mark_requested(session: Session, video_ids: Sequence[int], at: datetime | None = None) -> None:
    session.execute(
        update(Video)
        .where(Video.id.in_(video_ids), Video.processing_status == PROCESSING)
        .values(ladder_requested_at=at or func.now())
    )


def never_requested(session: Session, limit: int) -> list[int]:
    """Videos waiting for a ladder that nothing has asked for yet (the backfill, then repairs), oldest first."""
    statement = (
        select(Video.id)
        .where(Video.processing_status == PROCESSING, Video.ladder_requested_at.is_(None))
        .order_by(Video.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def claim(session: Session, video_id: int, token: str, lease_seconds: int) -> Claim | None:
    """Take the lease of a video still waiting for its ladder; None when it is not waiting, or is
    being made by an attempt whose lease holds, or has a MediaConvert job running."""
    row = session.execute(
        update(Video)
        .where(
            Video.id == video_id,
            Video.processing_status == PROCESSING,
            Video.ladder_job_id.is_(None),
            or_(
                Video.ladder_claimed_at.is_(None),
                Video.ladder_claimed_at < func.now() - text(f"interval '{int(lease_seconds)} seconds'"),
            ),
        )
        .values(
            ladder_token=token,
            ladder_claimed_at=func.now(),
            ladder_requested_at=func.coalesce(Video.ladder_requested_at, func.now()),
        )
        .returning(Video.filename, Video.duration)
    ).one_or_none()
    return Claim(video_id, row.filename, int(row.duration), token) if row else None


def set_plan(session: Session, claim: Claim, plan: list[dict[str, Any]]) -> None:
    session.execute(_current(claim.video_id, claim.token).values(ladder_plan=plan))


def release(session: Session, claim: Claim) -> None:
    """Give the lease back (a failure worth retrying): the next delivery may claim at once."""
    session.execute(_current(claim.video_id, claim.token).values(ladder_claimed_at=None))


def set_job(session: Session, claim: Claim, job_id: str) -> None:
    session.execute(_current(claim.video_id, claim.token).values(ladder_job_id=job_id))


def plan_of(session: Session, video_id: int, token: str) -> list[dict[str, Any]] | None:
    statement = select(Video.ladder_plan).where(
        Video.id == video_id, Video.ladder_token == token, Video.processing_status == PROCESSING
    )
    return session.scalars(statement).one_or_none()


def record_ready(session: Session, video_id: int, token: str, renditions: Sequence[NewRendition]) -> bool:
    """Store the ladder and mark the video ready, if this attempt is still the video's current one."""
    won = session.execute(
        _current(video_id, token)
        .values(
            processing_status=READY,
            processing_error=None,
            processed_at=func.now(),
            ladder_claimed_at=None,
        )
        .returning(Video.id)
    ).one_or_none()
    if won is None:
        return False
    session.execute(delete(VideoRendition).where(VideoRendition.video_id == video_id))
    session.execute(insert(VideoRendition), [{"video_id": video_id, **vars(r)} for r in renditions])
    return True


def record_failed(session: Session, video_id: int, token: str, reason: str) -> bool:
    won = session.execute(
        _current(video_id, token)
        .values(
            processing_status=FAILED,
            processing_error=reason[:MAX_ERROR_CHARS],
            processed_at=func.now(),
            ladder_claimed_at=None,
        )
        .returning(Video.id)
    ).one_or_none()
    return won is not None


def _current(video_id: int, token: str) -> Any:
    return update(Video).where(Video.id == video_id, Video.ladder_token == token, Video.processing_status == PROCESSING)


@dataclass(frozen=True)
class Failure:
    video_id: int
    title: str | None
    filename: str
    reason: str
    failed_at: datetime


def failures(session: Session, limit: int) -> list[Failure]:
    """Videos whose ladder failed, newest failure first."""
    rows = session.execute(
        select(Video.id, Video.title, Video.filename, Video.processing_error, Video.processed_at)
        .where(Video.processing_status == FAILED)
        .order_by(Video.processed_at.desc().nulls_last(), Video.id.desc())
        .limit(limit)
    ).all()
    return [Failure(r.id, r.title, r.filename, r.processing_error or "", r.processed_at) for r in rows]


def variants(session: Session, video_id: int) -> list[Variant]:
    """A ready video's renditions (without their playlists), lowest bandwidth first; none otherwise."""
    rows = session.execute(
        select(
            VideoRendition.name,
            VideoRendition.width,
            VideoRendition.height,
            VideoRendition.codecs,
            VideoRendition.frame_rate,
            VideoRendition.bandwidth,
            VideoRendition.average_bandwidth,
        )
        .join(Video, Video.id == VideoRendition.video_id)
        .where(VideoRendition.video_id == video_id, Video.processing_status == READY)
        .order_by(VideoRendition.bandwidth)
    ).all()
    return [
        Variant(r.name, r.width, r.height, r.codecs, float(r.frame_rate) if r.frame_rate else None, r.bandwidth,
                r.average_bandwidth)
        for r in rows
    ]  # fmt: skip


def rendition(session: Session, video_id: int, name: str) -> tuple[str, str] | None:
    """``(media_prefix, playlist)`` of one rendition of a ready video."""
    row = session.execute(
        select(VideoRendition.media_prefix, VideoRendition.playlist)
        .join(Video, Video.id == VideoRendition.video_id)
        .where(VideoRendition.video_id == video_id, VideoRendition.name == name, Video.processing_status == READY)
    ).one_or_none()
    return (row.media_prefix, row.playlist) if row else None
