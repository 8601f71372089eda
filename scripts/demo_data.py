"""A small demo library for `make dev`: one admin user and a handful of videos.

:func:`ensure_demo_library` (what `make dev` runs) makes real, playable clips with
ffmpeg, uploads them to the local S3 emulator and ingests them like any upload, so
their metadata is probed, their stream URLs play and the dispatcher makes their
thumbnails. Without ffmpeg, and for tests that need rows only, :func:`ensure_demo_data`
adds the same videos as metadata alone. Both are idempotent: nothing is added to a
database that already has videos.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sqlalchemy import func, select, text

from chalicelib.db.engine import session_scope
from chalicelib.db.models import Video
from chalicelib.domain.video import derive_orientation, derive_quality

DEV_ADMIN_ID = 1
DEMO_CLIP_SECONDS = 12
DEMO_VIDEOS = [
    ("demo/harbour-sunrise.mp4", "Harbour sunrise", "Harbour Films", "Ana", 1920, 1080, 184, True),
    ("demo/city-walk-vertical.mp4", "City walk", "Street Lens", "Ben", 1080, 1920, 62, True),
    ("demo/workshop-4k.mp4", "Community workshop", "Civic Media", "Chloe", 3840, 2160, 2710, True),
    ("demo/interview-hd.mp4", "Interview with the mayor", "Civic Media", "Dev", 1280, 720, 905, False),
    ("demo/archive-sd.mp4", "Archive reel 1998", "Old Reels", None, 640, 480, 431, False),
]


def ensure_admin() -> None:
    """The dev admin, user 1 (`make token` mints tokens for it)."""
    with session_scope() as session:
        session.execute(
            text(
                "INSERT INTO users (id, email, name, role) VALUES (:id, 'admin@media.local', 'Dev Admin', "
                "'SUPER_ADMIN') ON CONFLICT DO NOTHING"
            ),
            {"id": DEV_ADMIN_ID},
        )
        session.execute(text("SELECT setval('users_id_seq', GREATEST((SELECT max(id) FROM users), 1))"))


def _has_videos() -> bool:
    with session_scope() as session:
        return bool(session.scalar(select(func.count()).select_from(Video)))


def can_make_clips() -> bool:
    """Whether the demo library gets real media (and so thumbnails): ffmpeg makes the clips."""
    return shutil.which("ffmpeg") is not None


def ensure_demo_library(directory: Path) -> int:
    """Real demo clips in the media bucket, ingested; metadata-only rows when ffmpeg is missing."""
    ensure_admin()
    if _has_videos():
        return 0
    if not can_make_clips():
        return ensure_demo_data()
    from chalicelib.adapters import media_storage
    from chalicelib.services import ingest, videos

    for filename, title, producer, creator, width, height, duration, published in DEMO_VIDEOS:
        clip = _make_clip(directory, width, height, min(duration, DEMO_CLIP_SECONDS))
        key = f"videos/demo/{Path(filename).name}"
        media_storage.put(key, clip.read_bytes(), "video/mp4")
        result = ingest.ingest_object(key, {"title": title, "producer": producer, "creator": creator})
        if published:
            videos.update_video(result.video.id, {"is_published": True})
    return len(DEMO_VIDEOS)


def _make_clip(directory: Path, width: int, height: int, seconds: int) -> Path:
    """A real H.264/AAC clip of the given shape (scaled down for speed, aspect kept)."""
    scale = max(1, max(width, height) // 1280)
    size = f"{width // scale // 2 * 2}x{height // scale // 2 * 2}"
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"demo-{size}-{seconds}s.mp4"
    if not out.exists():
        command = [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(out),
        ]  # fmt: skip
        subprocess.run(command, check=True, timeout=120)
    return out


def ensure_demo_data() -> int:
    """Create the dev admin (user 1) and the demo videos as metadata only; return how many were added."""
    ensure_admin()
    with session_scope() as session:
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
