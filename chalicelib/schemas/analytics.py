"""Admin analytics: per-video reports, registered viewers, stored aggregates, top videos, overview."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from chalicelib.schemas.base import Answer, Query, Success
from chalicelib.web.inputs import Instant, QueryDate, QueryInt

TopMetric = Literal["views", "watchTime"]


class RangeQuery(Query):
    start_date: QueryDate | None = Field(
        default=None, alias="startDate", description="First day (default: first data)."
    )
    end_date: QueryDate | None = Field(
        default=None, alias="endDate", description="Last day, inclusive (default: today)."
    )


class ViewersQuery(Query):
    limit: QueryInt = Field(default=1000, ge=1, le=1000)


class TopQuery(Query):
    metric: TopMetric = "views"
    limit: QueryInt = Field(default=10, ge=1, le=100)


class Totals(Answer):
    total_views: int
    unique_viewers: int
    total_watch_time_seconds: int
    average_watch_time_seconds: float
    completion_rate: float = Field(description="Percent of views completed, 0-100.")


class TotalsWithCompleted(Totals):
    completed_views: int


class EventCounts(Answer):
    play: int
    pause: int
    seek: int
    complete: int


class DayPoint(Answer):
    date: date
    views: int
    unique_viewers: int
    watch_time_seconds: int


class Referrer(Answer):
    referer: str
    views: int


class VideoAnalytics(TotalsWithCompleted):
    video_id: int
    event_counts: EventCounts
    views_by_day: list[DayPoint]
    top_referrers: list[Referrer]


class RegisteredViewer(Answer):
    user_id: int
    name: str | None
    email: str | None
    views: int
    watch_time_seconds: int
    last_viewed_at: Instant


class RegisteredViewers(Answer):
    viewers: list[RegisteredViewer]


class VideoTotals(TotalsWithCompleted):
    video_id: int


class Aggregated(Success):
    analytics: VideoTotals


class TopVideo(Answer):
    id: int
    title: str | None
    views: int
    unique_viewers: int
    watch_time_seconds: int
    completion_rate: float


class TopVideos(Answer):
    metric: TopMetric
    videos: list[TopVideo]


class Overview(Totals):
    total_videos: int
    published_videos: int
    views_last_24h: int = Field(alias="viewsLast24h")
    views_last_7d: int = Field(alias="viewsLast7d")
    views_last_30d: int = Field(alias="viewsLast30d")
    views_by_day: list[DayPoint]
