"""A small demo library for `make dev`: one admin user and a handful of videos.

Idempotent: nothing is added to a database that already has videos.
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from chalicelib.db.engine import session_scope
from chalicelib.db.models import Video
from chalicelib.services.videos import derive_orientation, derive_quality

DEV_ADMIN_ID = 1
DEMO_VIDEOS = [
    ("demo/harbour-sunrise.mp4", "Harbour sunrise", "Harbour Films", "Ana", 1920, 1080, 184, True),
    ("demo/city-walk-vertical.mp4", "City walk", "Street Lens", "Ben", 1080, 1920, 62, True),
    ("demo/workshop-4k.mp4", "Community workshop", "Civic Media", "Chloe", 3840, 2160, 2710, True),
    ("demo/interview-hd.mp4", "Interview with the mayor", "Civic Media", "Dev", 1280, 720, 905, False),
    ("demo/archive-sd.mp4", "Archive reel 1998", "Old Reels", None, 640, 480, 431, False),
]


def ensure_demo_data() -> int:
    """Create the dev admin (user 1) and the demo videos; return how many videos were added."""
    with session_scope() as session:
        session.execute(
            text(
                "INSERT INTO users (id, email, name, role) VALUES (:id, 'admin@media.local', 'Dev Admin', "
                "'SUPER_ADMIN') ON CONFLICT DO NOTHING"
            ),
            {"id": DEV_ADMIN_ID},
        )
        session.execute(text("SELECT setval('users_id_seq', GREATEST((SELECT max(id) FROM users), 1))"))
        if session.scalar(select(func.count()).select_from(Video)):
            return 0
        for filename, title, producer, creator, width, height, duration, published in DEMO_VIDEOS:
            session.add(
                Video(
                    filename=filename,
                    title=title,
                    producer=producer,
                    creator=creator,
                    duration=duration,
                    file_size=duration * 1_250_000,
                    width=width,
                    height=height,
                    orientation=derive_orientation(width, height),
                    quality=derive_quality(width, height),
                    has_audio=True,
                    is_published=published,
                )
            )
    return len(DEMO_VIDEOS)
