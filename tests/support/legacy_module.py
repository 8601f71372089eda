"""The Fastify/Prisma module's database (its tables: :mod:`scripts.module_schema`) with a library in it.

:func:`fill` writes a small library: views from several users and from anonymous IP hashes
(the module's plain SHA-256), events, completed, failed and pending schedules (past due and
future), referrers with query strings. :func:`module_figures` computes the module's own
``aggregateVideoAnalytics`` formulas over those rows, the figures an import must reproduce.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from scripts.module_schema import create_schema

__all__ = ["create_schema", "fill", "library_figures", "module_figures", "sha256_ip"]

USERS = [
    (11, "ana@main.test", "Ana", "SUPER_ADMIN"),
    (12, "ben@main.test", "Ben", "USER"),
    (13, "cy@main.test", None, "USER"),
]
REFERRERS = [
    None,
    "https://blog.example/post?session=abc#top",
    "https://news.example/a/b?utm_source=x",
    "android-app://com.example",
    "https://user:secret@forum.example/t/1",
]
EVENT_TYPES = ("play", "pause", "seek", "complete")


@dataclass(frozen=True)
class LegacyVideoSpec:
    id: int
    filename: str
    title: str
    width: int
    height: int
    duration: int
    published: bool


VIDEOS = [
    LegacyVideoSpec(1, "harbour.mp4", "Harbour", 320, 180, 4, True),
    LegacyVideoSpec(2, "clips/city walk.mp4", "City walk", 180, 320, 4, True),
    LegacyVideoSpec(3, "interview.mp4", "Interview", 320, 240, 4, False),
    LegacyVideoSpec(4, "archive.mp4", "Archive (no file)", 640, 480, 120, False),
]


def sha256_ip(address: str) -> str:
    """The module's ``hashIpAddress``: a plain SHA-256 of the address."""
    return hashlib.sha256(address.encode()).hexdigest()


def fill(run: Any, schema: str = "public", *, now: datetime, views_per_video: int = 60, seed: int = 19) -> None:
    """A library: four videos, views over the last 40 days, events, and every kind of schedule."""
    rnd = random.Random(seed)
    t = f'"{schema}"'
    stamp = now.astimezone(UTC).replace(tzinfo=None)
    for user_id, email, name, role in USERS:
        run(
            f'INSERT INTO {t}.users (id, email, name, password, role, "updatedAt") '
            "VALUES (:id, :email, :name, 'x', :role, :now)",
            id=user_id, email=email, name=name, role=role, now=stamp,
        )  # fmt: skip
    run(f"SELECT setval(pg_get_serial_sequence('{schema}.users', 'id'), 20)")
    for video in VIDEOS:
        run(
            f"""INSERT INTO {t}.videos (id, filename, title, producer, creator, "thumbnailUrl", duration, "fileSize",
                width, height, orientation, quality, "isPublished", "createdAt", "updatedAt")
                VALUES (:id, :filename, :title, 'Module Films', 'Dana', '/media/thumbs/x.jpg', :duration, 1000,
                        :width, :height, :orientation, :quality, :published, :created, :created)""",
            id=video.id, filename=video.filename, title=video.title, duration=video.duration, width=video.width,
            height=video.height, orientation="H" if video.width >= video.height else "V", quality="SD",
            published=video.published, created=stamp - timedelta(days=60),
        )  # fmt: skip
    run(f"SELECT setval(pg_get_serial_sequence('{schema}.videos', 'id'), 4)")
    view_id = 0
    for video in VIDEOS:
        for _ in range(views_per_video):
            view_id += 1
            user = rnd.choice([11, 12, 13, None, None, None])
            ip = None if user else sha256_ip(f"198.51.100.{rnd.randrange(12)}")
            created = stamp - timedelta(days=rnd.uniform(0.2, 40))
            completed = rnd.random() < 0.3
            run(
                f"""INSERT INTO {t}.video_views (id, "videoId", "userId", "ipAddress", "userAgent", referer,
                        "watchTimeSeconds", completed, "createdAt")
                    VALUES (:id, :video, :user, :ip, 'Mozilla (X11; Linux x86_64) Chrome Safari', :ref, :watch,
                            :completed, :created)""",
                id=view_id, video=video.id, user=user, ip=ip, ref=rnd.choice(REFERRERS),
                watch=rnd.randrange(0, video.duration * 2 + 1), completed=completed, created=created,
            )  # fmt: skip
            for index in range(rnd.randrange(0, 4)):
                position = Decimal(rnd.randrange(0, video.duration * 100)) / 100
                run(
                    f"""INSERT INTO {t}.video_events ("videoId", "viewId", "eventType", timestamp, "createdAt")
                        VALUES (:video, :view, :type, :ts, :created)""",
                    video=video.id, view=view_id, type=rnd.choice(EVENT_TYPES),
                    ts=position, created=created + timedelta(seconds=index),
                )  # fmt: skip
    run(
        f'INSERT INTO {t}.video_events ("videoId", "viewId", "eventType", timestamp, "createdAt") '
        "VALUES (1, NULL, 'play', 0, :created)",
        created=stamp - timedelta(days=3),
    )
    run(f"SELECT setval(pg_get_serial_sequence('{schema}.video_views', 'id'), {view_id})")
    _schedules(run, t, stamp)


def _schedules(run: Any, t: str, stamp: datetime) -> None:
    """Completed and failed history; a past-due pending publish (video 3) and a future unpublish (video 1)."""
    rows = [
        (1, "publish", stamp - timedelta(days=30), stamp - timedelta(days=30), "completed", None, 11),
        (2, "publish", stamp - timedelta(days=20), None, "failed", "Video not found in storage", 11),
        (2, "publish", stamp - timedelta(days=19), stamp - timedelta(days=19), "completed", None, 12),
        (3, "publish", stamp - timedelta(hours=2), None, "pending", None, 12),
    ]
    for video, action, when, executed, status, error, user in rows:
        run(
            f"""INSERT INTO {t}.video_schedule_history ("videoId", action, "scheduledFor", "executedAt", status, error,
                    "scheduledByUserId") VALUES (:video, :action, :when, :executed, :status, :error, :user)""",
            video=video, action=action, when=when, executed=executed, status=status, error=error, user=user,
        )  # fmt: skip
    run(f'UPDATE {t}.videos SET "scheduledPublishAt" = :when WHERE id = 3', when=stamp - timedelta(hours=2))
    run(f'UPDATE {t}.videos SET "scheduledUnpublishAt" = :when WHERE id = 1', when=stamp + timedelta(days=3))


FUTURE_UNPUBLISH_VIDEO = 1
PAST_DUE_PUBLISH_VIDEO = 3


def module_figures(run: Any, schema: str = "public") -> dict[int, dict[str, Any]]:
    """``aggregateVideoAnalytics`` of the module for each video, and its total views, over the source rows."""
    rows = run(
        f"""SELECT "videoId", count(*), count(DISTINCT COALESCE("userId"::text, "ipAddress")),
                   sum("watchTimeSeconds"), count(*) FILTER (WHERE completed)
            FROM "{schema}".video_views GROUP BY "videoId" ORDER BY "videoId" """
    )
    figures = {}
    for video_id, views, unique, watch, completed in rows:
        figures[int(video_id)] = {
            "totalViews": int(views),
            "uniqueViewers": int(unique),
            "totalWatchTimeSeconds": int(watch),
            "averageWatchTimeSeconds": round(int(watch) / int(views), 2),
            "completionRate": round(int(completed) * 100 / int(views), 2),
        }
    return figures


def library_figures(run: Any, schema: str = "public") -> dict[str, Any]:
    """The library's figures by the same formulas (``getAnalyticsOverview`` over every view)."""
    views, unique, watch = run(
        f"""SELECT count(*), count(DISTINCT COALESCE("userId"::text, "ipAddress")), sum("watchTimeSeconds")
            FROM "{schema}".video_views"""
    )[0]
    return {"totalViews": int(views), "uniqueViewers": int(unique), "totalWatchTimeSeconds": int(watch)}
