"""Live viewers: how many players are watching now, per video and for the library.

Answered from the views of the last day whose last activity is at most 30 s old (see
``chalicelib/domain/audience.py``): one indexed scan, cheap enough to poll every 10 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.db.engine import snapshot
from chalicelib.domain import errors
from chalicelib.repositories.analytics import catalog, live

BUSIEST_LIMIT = 100


@dataclass(frozen=True)
class VideoLive:
    video_id: int
    viewers: int
    as_of: datetime


@dataclass(frozen=True)
class LibraryLive:
    viewers: int
    videos: list[live.LiveVideo]
    as_of: datetime


def video(video_id: int, include_team: bool) -> VideoLive:
    teams = (False, True) if include_team else (False,)
    with snapshot() as connection:
        if not catalog.exists(connection, video_id):
            raise errors.NotFound("Video not found")
        return VideoLive(video_id, live.viewers_of(connection, video_id, teams), live.now(connection))


def library(include_team: bool, limit: int = BUSIEST_LIMIT) -> LibraryLive:
    teams = (False, True) if include_team else (False,)
    with snapshot() as connection:
        total, videos = live.busiest(connection, teams, limit)
        return LibraryLive(total, videos, live.now(connection))
