"""The Fastify/Prisma module's tables, as `prisma migrate deploy` leaves them (the import's source shape).

Every model and column of the module's documentation (``Video``, ``VideoView``, ``VideoEvent``,
``VideoScheduleHistory``) plus the main API's ``users``, mapped as Prisma maps them: snake_case
tables, camelCase quoted columns, ``DateTime`` as ``timestamp(3)`` holding UTC, ``@updatedAt``
without a database default, foreign keys and indexes named the Prisma way. The import's tests
and its benchmark build their source databases with it.
"""

from __future__ import annotations

from typing import Any

PRISMA_SCHEMA = """
CREATE TABLE "{s}"."users" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "password" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_email_key" ON "{s}"."users"("email");
CREATE TABLE "{s}"."videos" (
    "id" SERIAL NOT NULL,
    "filename" TEXT NOT NULL,
    "title" TEXT,
    "producer" TEXT,
    "creator" TEXT,
    "thumbnailUrl" TEXT,
    "duration" INTEGER NOT NULL,
    "fileSize" BIGINT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "orientation" TEXT NOT NULL,
    "quality" TEXT NOT NULL,
    "hasAudio" BOOLEAN NOT NULL DEFAULT true,
    "isPublished" BOOLEAN NOT NULL DEFAULT false,
    "scheduledPublishAt" TIMESTAMP(3),
    "scheduledUnpublishAt" TIMESTAMP(3),
    "uniqueViewers" INTEGER NOT NULL DEFAULT 0,
    "totalWatchTimeSeconds" INTEGER NOT NULL DEFAULT 0,
    "averageWatchTimeSeconds" DECIMAL(10,2) NOT NULL DEFAULT 0,
    "completionRate" DECIMAL(5,2) NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "videos_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "videos_filename_key" ON "{s}"."videos"("filename");
CREATE TABLE "{s}"."video_views" (
    "id" SERIAL NOT NULL,
    "videoId" INTEGER NOT NULL,
    "userId" INTEGER,
    "ipAddress" VARCHAR(64),
    "userAgent" TEXT,
    "referer" TEXT,
    "watchTimeSeconds" INTEGER NOT NULL DEFAULT 0,
    "completed" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "video_views_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "video_views_videoId_idx" ON "{s}"."video_views"("videoId");
CREATE INDEX "video_views_userId_idx" ON "{s}"."video_views"("userId");
CREATE INDEX "video_views_createdAt_idx" ON "{s}"."video_views"("createdAt");
CREATE TABLE "{s}"."video_events" (
    "id" SERIAL NOT NULL,
    "videoId" INTEGER NOT NULL,
    "viewId" INTEGER,
    "eventType" VARCHAR(50) NOT NULL,
    "timestamp" DECIMAL(10,2) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "video_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "video_events_videoId_idx" ON "{s}"."video_events"("videoId");
CREATE INDEX "video_events_viewId_idx" ON "{s}"."video_events"("viewId");
CREATE TABLE "{s}"."video_schedule_history" (
    "id" SERIAL NOT NULL,
    "videoId" INTEGER NOT NULL,
    "action" VARCHAR(20) NOT NULL,
    "scheduledFor" TIMESTAMP(3) NOT NULL,
    "executedAt" TIMESTAMP(3),
    "status" VARCHAR(20) NOT NULL,
    "error" TEXT,
    "scheduledByUserId" INTEGER NOT NULL,
    CONSTRAINT "video_schedule_history_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "video_schedule_history_videoId_idx" ON "{s}"."video_schedule_history"("videoId");
CREATE INDEX "video_schedule_history_scheduledFor_idx" ON "{s}"."video_schedule_history"("scheduledFor");
CREATE INDEX "video_schedule_history_status_idx" ON "{s}"."video_schedule_history"("status");
ALTER TABLE "{s}"."video_views" ADD CONSTRAINT "video_views_videoId_fkey" FOREIGN KEY ("videoId")
    REFERENCES "{s}"."videos"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "{s}"."video_views" ADD CONSTRAINT "video_views_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "{s}"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "{s}"."video_events" ADD CONSTRAINT "video_events_videoId_fkey" FOREIGN KEY ("videoId")
    REFERENCES "{s}"."videos"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "{s}"."video_schedule_history" ADD CONSTRAINT "video_schedule_history_videoId_fkey" FOREIGN KEY ("videoId")
    REFERENCES "{s}"."videos"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "{s}"."video_schedule_history" ADD CONSTRAINT "video_schedule_history_scheduledByUserId_fkey"
    FOREIGN KEY ("scheduledByUserId") REFERENCES "{s}"."users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
"""


def create_schema(run: Any, schema: str = "public") -> None:
    """The module's tables in ``schema`` (``run(sql)`` executes one statement)."""
    if schema != "public":
        run(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    for statement in PRISMA_SCHEMA.format(s=schema).split(";"):
        if statement.strip():
            run(statement)
