"""Table models: videos, their views, events and schedule history, the users they refer to, and
the tables analytics, ingest and rate limits keep.

Column names are snake_case; the JSON API speaks camelCase and the mapping between
them lives in :mod:`chalicelib.presenters` and :mod:`chalicelib.schemas`.
The schema itself is created by the Alembic migrations in ``migrations/``;
these classes must stay in step with them (``tests/test_migrations.py`` checks).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIT, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chalicelib.domain import metrics

TIMESTAMPTZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class User(Base):
    """Owned by the main API; mirrored here only so foreign keys and viewer lists can join it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text, server_default="USER")
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        CheckConstraint("orientation IN ('H', 'V')", name="videos_orientation_check"),
        CheckConstraint("quality IN ('SD', 'HD', 'FHD', 'UHD')", name="videos_quality_check"),
        CheckConstraint(
            "processing_status IN ('processing', 'ready', 'failed')", name="videos_processing_status_check"
        ),
        Index("videos_created_at_idx", "created_at"),
        Index("videos_is_published_idx", "is_published"),
        Index(
            "videos_processing_idx",
            "ladder_requested_at",
            "id",
            postgresql_where=text("processing_status = 'processing'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    producer: Mapped[str | None] = mapped_column(Text)
    creator: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    # The poster frame made at ingest, a key in the media bucket; answers sign it when thumbnail_url is unset.
    thumbnail_key: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[int] = mapped_column(Integer)
    file_size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    orientation: Mapped[str] = mapped_column(String(1))
    quality: Mapped[str] = mapped_column(String(3))
    has_audio: Mapped[bool] = mapped_column(Boolean, server_default="true")
    is_published: Mapped[bool] = mapped_column(Boolean, server_default="false")
    scheduled_publish_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    scheduled_unpublish_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now(), onupdate=func.now())
    # The rendition ladder (chalicelib/services/transcoding.py): processing -> ready | failed.
    processing_status: Mapped[str] = mapped_column(Text, server_default="processing")
    processing_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    ladder_requested_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    ladder_token: Mapped[str | None] = mapped_column(Text)
    ladder_claimed_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    ladder_job_id: Mapped[str | None] = mapped_column(Text)
    ladder_plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)


class VideoRendition(Base):
    """One rung of a ready ladder: its master-playlist attributes and its media playlist."""

    __tablename__ = "video_renditions"

    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    codecs: Mapped[str] = mapped_column(Text)
    frame_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    bandwidth: Mapped[int] = mapped_column(Integer)
    average_bandwidth: Mapped[int | None] = mapped_column(Integer)
    # Where the playlist's relative URIs live in the media bucket.
    media_prefix: Mapped[str] = mapped_column(Text)
    playlist: Mapped[str] = mapped_column(Text)


class VideoTombstone(Base):
    """A deleted video: nothing may bring it back, and its media is purged until ``purged_at``."""

    __tablename__ = "video_tombstones"
    __table_args__ = (Index("video_tombstones_unpurged_idx", "deleted_at", postgresql_where=text("purged_at IS NULL")),)

    video_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(Text, unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    purged_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)


class VideoView(Base):
    __tablename__ = "video_views"
    __table_args__ = (
        Index("video_views_video_created_idx", "video_id", "created_at", postgresql_include=["user_id", "ip_address"]),
        Index("video_views_user_id_idx", "user_id"),
        Index("video_views_created_at_idx", "created_at"),
    )
    # Partitioned by month of created_at (migration 0006, repositories/partitions.py), each
    # partition with fillfactor = 80 (room for HOT updates by heartbeats).

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The anonymous visitor key (64 hex chars): HMAC-SHA-256 of the day's salt, the client IP and its
    # User-Agent (services/privacy.py), never the address itself. The column keeps the module's name.
    ip_address: Mapped[str | None] = mapped_column(String(64))
    # True for views imported from the module: ``ip_address`` is its plain SHA-256 of the address.
    ip_legacy: Mapped[bool] = mapped_column(Boolean, server_default="false")
    referer: Mapped[str | None] = mapped_column(Text)
    watch_time_seconds: Mapped[int] = mapped_column(Integer, server_default="0")
    completed: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Recorded with an admin token: left out of every figure unless a report asks for team views.
    is_team: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Last activity (live viewers), the last position sample and the hundredths played
    # (chalicelib/domain/audience.py); NULL: nothing since the view started at 0.
    last_seen_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    last_position: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    last_position_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    played: Mapped[str | None] = mapped_column(BIT(100))
    played_folded: Mapped[str | None] = mapped_column(BIT(100))
    # The viewer's context, derived when the view is recorded (chalicelib/domain/viewers.py).
    device_type: Mapped[str | None] = mapped_column(Text)
    browser: Mapped[str | None] = mapped_column(Text)
    os: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    # The player's quality of experience: first or largest value reported (chalicelib/domain/qoe.py).
    startup_time_ms: Mapped[int | None] = mapped_column(Integer)
    rebuffer_count: Mapped[int | None] = mapped_column(Integer)
    rebuffer_ms: Mapped[int | None] = mapped_column(BigInteger)
    error_code: Mapped[str | None] = mapped_column(Text)
    bitrate_kbps: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    qoe_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    # The viewer left (ended, pagehide, a complete event): not live any more.
    ended_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    # The viewer agreed that the view carries their user id (no user id without it; NULL: recorded before).
    consented: Mapped[bool | None] = mapped_column(Boolean)
    # "web": a page on an allowed origin; "app": no page named (a server-side player, a native app).
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now(), primary_key=True)


class VideoEvent(Base):
    __tablename__ = "video_events"
    __table_args__ = (
        Index("video_events_video_created_idx", "video_id", "created_at", "event_type"),
        Index("video_events_view_id_idx", "view_id"),
        Index("video_events_created_at_idx", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    view_id: Mapped[int | None] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(50))
    timestamp: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    is_team: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Partitioned by month of created_at, like video_views.
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now(), primary_key=True)


class VisitorSalt(Base):
    """The salt of one UTC day's anonymous visitor keys; only the current day's is kept."""

    __tablename__ = "visitor_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary)


class VideoScheduleHistory(Base):
    __tablename__ = "video_schedule_history"
    __table_args__ = (
        Index("video_schedule_history_video_id_idx", "video_id"),
        Index("video_schedule_history_scheduled_for_idx", "scheduled_for"),
        Index("video_schedule_history_status_idx", "status"),
        Index(
            "video_schedule_history_one_pending_idx",
            "video_id",
            "action",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        CheckConstraint("action IN ('publish', 'unpublish')", name="video_schedule_history_action_check"),
        CheckConstraint(
            "status IN ('pending', 'completed', 'failed', 'cancelled', 'skipped')",
            name="video_schedule_history_status_check",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[datetime] = mapped_column(TIMESTAMPTZ)
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    executed_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    scheduled_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())


class _Figures:
    """What every analytics roll-up row holds: additive figures, exact viewers, and their sketch."""

    views: Mapped[int] = mapped_column(Integer, server_default="0")
    viewers: Mapped[int] = mapped_column(Integer, server_default="0")
    watch_time_seconds: Mapped[int] = mapped_column(BigInteger, server_default="0")
    completed_views: Mapped[int] = mapped_column(Integer, server_default="0")
    play_events: Mapped[int] = mapped_column(Integer, server_default="0")
    pause_events: Mapped[int] = mapped_column(Integer, server_default="0")
    seek_events: Mapped[int] = mapped_column(Integer, server_default="0")
    complete_events: Mapped[int] = mapped_column(Integer, server_default="0")
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary)
    peak_viewers: Mapped[int] = mapped_column(Integer, server_default="0")


class AnalyticsHour(_Figures, Base):
    """One UTC hour of one scope (a video, or 0 for the library), team views apart."""

    __tablename__ = "analytics_hours"
    # The refresh reads and rewrites hours by time for every scope at once (migration 0016).
    __table_args__ = (Index("analytics_hours_hour_idx", "hour"),)

    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(TIMESTAMPTZ, primary_key=True)
    team: Mapped[bool] = mapped_column(Boolean, primary_key=True)


class AnalyticsDay(_Figures, Base):
    """One calendar day of a time zone in use, materialised from the hours by the refresh."""

    __tablename__ = "analytics_days"

    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone: Mapped[str] = mapped_column(Text, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    viewers_exact: Mapped[bool] = mapped_column(Boolean, server_default="true")
    # On the team row: exact distinct viewers of the day's team and other views together (0017).
    viewers_with_team: Mapped[int | None] = mapped_column(Integer, nullable=True)

    # Index-only reads of a scope's days without their sketches (migration 0007); a zone's day
    # rewritten for every scope at once (0016).
    __table_args__ = (
        Index("analytics_days_zone_day_idx", "zone", "day"),
        Index(
            "analytics_days_figures_idx",
            "scope_id",
            "zone",
            "day",
            "team",
            postgresql_include=[
                "viewers",
                "viewers_exact",
                "peak_viewers",
                "views",
                "watch_time_seconds",
                "completed_views",
                "play_events",
                "pause_events",
                "seek_events",
                "complete_events",
                "viewers_with_team",
            ],
        ),
    )


class AnalyticsReferrer(Base):
    """Views per referrer per video per UTC hour (scheme, host and path only)."""

    __tablename__ = "analytics_referrers"
    __table_args__ = (Index("analytics_referrers_hour_idx", "hour"),)  # refolded by hour (migration 0016)

    video_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(TIMESTAMPTZ, primary_key=True)
    team: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    referer: Mapped[str] = mapped_column(Text, primary_key=True)
    views: Mapped[int] = mapped_column(Integer)


class AnalyticsReferrerDay(Base):
    """Views per referrer per video per UTC day, summed from the hours (reports read whole days here)."""

    __tablename__ = "analytics_referrer_days"
    # Index-only reads of a video's referrers over a range of days (migration 0007); days rewritten for
    # every video at once (0016).
    __table_args__ = (
        Index("analytics_referrer_days_day_idx", "day"),
        Index(
            "analytics_referrer_days_video_team_day_idx",
            "video_id",
            "team",
            "day",
            postgresql_include=["referer", "views"],
        ),
    )

    video_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    referer: Mapped[str] = mapped_column(Text, primary_key=True)
    views: Mapped[int] = mapped_column(Integer)


class AnalyticsAudienceDay(Base):
    """Per video and UTC day (views started that day): how many views played each hundredth of it."""

    __tablename__ = "analytics_audience_days"

    video_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    counts: Mapped[list[int]] = mapped_column(ARRAY(Integer))


class AnalyticsTotal(Base):
    """All-time figures of a scope, with the sketch of all its viewers (merged as hours are folded)."""

    __tablename__ = "analytics_totals"

    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger, server_default="0")
    viewers: Mapped[int] = mapped_column(BigInteger, server_default="0")
    viewers_exact: Mapped[bool] = mapped_column(Boolean, server_default="true")
    watch_time_seconds: Mapped[int] = mapped_column(BigInteger, server_default="0")
    completed_views: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())


def _measures() -> list[Column[Any]]:
    """One column per measure of the registry (``chalicelib/domain/metrics.py``)."""
    return [
        Column(item.column, BigInteger if item.big else Integer, server_default="0", nullable=False)
        for item in metrics.MEASURES
    ]


# A scope's registry measures per UTC hour (report points outside UTC days, hourly reports).
analytics_measure_hours = Table(
    "analytics_measure_hours",
    Base.metadata,
    Column("scope_id", Integer, primary_key=True),
    Column("hour", TIMESTAMPTZ, primary_key=True),
    Column("team", Boolean, primary_key=True),
    *_measures(),
    Index("analytics_measure_hours_hour_idx", "hour"),
)
# Per scope, UTC day, dimension and value ('' and '': the scope as a whole): measures and a viewer sketch.
analytics_breakdown_days = Table(
    "analytics_breakdown_days",
    Base.metadata,
    Column("scope_id", Integer, primary_key=True),
    Column("dimension", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("team", Boolean, primary_key=True),
    Column("value", Text, primary_key=True),
    *_measures(),
    Column("sketch", LargeBinary),
    Index("analytics_breakdown_days_day_idx", "day"),
    # Each scope's views per day, read to tell which blocks of days are kept (``analytics_breakdown_blocks``).
    Index(
        "analytics_breakdown_days_scope_views_idx",
        "day",
        "scope_id",
        postgresql_include=["views"],
        postgresql_where=text("dimension = ''"),
    ),
)
# Per scope, dimension and value: the sketch of every viewer folded so far (all-time breakdowns).
analytics_breakdown_totals = Table(
    "analytics_breakdown_totals",
    Base.metadata,
    Column("scope_id", Integer, primary_key=True),
    Column("dimension", Text, primary_key=True),
    Column("team", Boolean, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("sketch", LargeBinary, nullable=False),
)
# Per scope, dimension and value: the viewer sketch of each aligned block of 2, 4, ... 256 UTC days
# (``chalicelib.domain.day_blocks``), so a range of days merges a few sketches per value, not one per day.
# Its sketches are stored uncompressed (``STORAGE EXTERNAL``, migration 0019).
analytics_breakdown_blocks = Table(
    "analytics_breakdown_blocks",
    Base.metadata,
    Column("scope_id", Integer, primary_key=True),
    Column("dimension", Text, primary_key=True),
    Column("days", SmallInteger, primary_key=True),
    Column("first_day", Date, primary_key=True),
    Column("team", Boolean, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("sketch", LargeBinary, nullable=False),
    Index("analytics_breakdown_blocks_first_day_idx", "days", "first_day"),
)


class AnalyticsZone(Base):
    """A time zone whose calendar days the refresh materialises (UTC, and every zone asked for)."""

    __tablename__ = "analytics_zones"

    zone: Mapped[str] = mapped_column(Text, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    materialized_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)


class AnalyticsState(Base):
    """Instants the refresh keeps: ``folded_until`` (raw rows before it are in the hours), ``fold_floor``."""

    __tablename__ = "analytics_state"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    at: Mapped[datetime] = mapped_column(TIMESTAMPTZ)


class IngestFailure(Base):
    """An upload the ingest refused (not a video, unreadable, too long to probe); its object is deleted."""

    __tablename__ = "ingest_failures"
    __table_args__ = (Index("ingest_failures_failed_at_idx", text("failed_at DESC"), text("id DESC")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())


class RateLimitCounter(Base):
    """Fixed-window request counters shared by every Lambda container.

    Unlogged (migration 0020): no WAL for a count that is worthless a minute later; a crash empties it.
    """

    __tablename__ = "rate_limit_counters"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TIMESTAMPTZ, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, server_default="0")


class ImportCheckpoint(Base):
    """How far an import from the module got, per source and step (``make import`` resumes here)."""

    __tablename__ = "import_checkpoints"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    step: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, server_default="0")
    detail: Mapped[dict[str, object]] = mapped_column(JSONB, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())


class ImportId(Base):
    """The id an imported video or schedule row got here, and its media's state."""

    __tablename__ = "import_ids"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    legacy_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(Text)
