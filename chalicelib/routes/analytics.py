"""Admin analytics routes: ``/api/videos/{id}/analytics*``, ``/api/videos/analytics/*``, reset."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.repositories.analytics import Totals
from chalicelib.routes.presenters import iso_utc, number
from chalicelib.schemas import analytics as schema
from chalicelib.schemas.base import Success
from chalicelib.services import analytics as analytics_service
from chalicelib.web.request import RequestContext
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


def _totals(totals: Totals) -> dict[str, object]:
    return {
        "total_views": totals.views,
        "unique_viewers": totals.unique_viewers,
        "total_watch_time_seconds": totals.watch_time_seconds,
        "average_watch_time_seconds": round(totals.average_watch_time, 2),
        "completion_rate": round(totals.completion_rate, 2),
    }


@api_route(
    bp,
    "/videos/{video_id}/analytics",
    summary="A video's analytics",
    auth="admin",
    query=schema.RangeQuery,
    response=schema.VideoAnalytics,
)
def video_analytics(ctx: RequestContext, video_id: int) -> schema.VideoAnalytics:
    """Totals, event counts, a gap-free day series and the top referrers over [startDate, endDate]."""
    params: schema.RangeQuery = ctx.params
    report = analytics_service.video_report(video_id, params.start_date, params.end_date)
    return schema.VideoAnalytics.model_validate(
        {
            "video_id": report.video_id,
            **_totals(report.totals),
            "completed_views": report.totals.completed_views,
            "event_counts": report.event_counts,
            "views_by_day": [
                {
                    "date": day.day,
                    "views": day.views,
                    "unique_viewers": day.unique_viewers,
                    "watch_time_seconds": day.watch_time_seconds,
                }
                for day in report.days
            ],
            "top_referrers": [{"referer": referer, "views": views} for referer, views in report.referrers],
        }
    )


@api_route(
    bp,
    "/videos/{video_id}/analytics/viewers",
    summary="Registered users who watched a video",
    auth="admin",
    query=schema.ViewersQuery,
    response=schema.RegisteredViewers,
)
def video_viewers(ctx: RequestContext, video_id: int) -> schema.RegisteredViewers:
    """Most recent first."""
    params: schema.ViewersQuery = ctx.params
    rows = analytics_service.registered_viewers(video_id, params.limit)
    return schema.RegisteredViewers(
        viewers=[
            schema.RegisteredViewer(
                user_id=row[0],
                name=row[1],
                email=row[2],
                views=int(row[3]),
                watch_time_seconds=int(row[4] or 0),
                last_viewed_at=iso_utc(row[5]) or "",
            )
            for row in rows
        ]
    )


@api_route(
    bp,
    "/videos/{video_id}/analytics/aggregate",
    "POST",
    summary="Recompute a video's stored figures",
    auth="admin",
    response=schema.Aggregated,
)
def aggregate(ctx: RequestContext, video_id: int) -> schema.Aggregated:
    """The figures on the video row are otherwise refreshed every few minutes."""
    totals = analytics_service.aggregate_video(video_id)
    return schema.Aggregated.model_validate(
        {"analytics": {"video_id": video_id, **_totals(totals), "completed_views": totals.completed_views}}
    )


@api_route(
    bp,
    "/videos/{video_id}/reset-analytics",
    "POST",
    summary="Reset a video's analytics",
    auth="admin",
    response=Success,
)
def reset_analytics(ctx: RequestContext, video_id: int) -> Success:
    """Deletes its views, events and roll-ups and zeroes its figures."""
    analytics_service.reset(video_id)
    return Success()


@api_route(
    bp, "/videos/analytics/top", summary="Top videos", auth="admin", query=schema.TopQuery, response=schema.TopVideos
)
def top_videos(ctx: RequestContext) -> schema.TopVideos:
    """Ranked on all-time views or watch time."""
    params: schema.TopQuery = ctx.params
    rows = analytics_service.top_videos(params.metric, params.limit)
    return schema.TopVideos(
        metric=params.metric,
        videos=[
            schema.TopVideo(
                id=row[0],
                title=row[1],
                views=int(row[2]),
                unique_viewers=int(row[4]),
                watch_time_seconds=int(row[3]),
                completion_rate=number(row[5]),
            )
            for row in rows
        ],
    )


@api_route(bp, "/videos/analytics/overview", summary="Library overview", auth="admin", response=schema.Overview)
def overview(ctx: RequestContext) -> schema.Overview:
    """Library totals and the last 30 days."""
    result = analytics_service.overview()
    return schema.Overview.model_validate(
        {
            "total_videos": result.total_videos,
            "published_videos": result.published_videos,
            **_totals(result.totals),
            "views_last_24h": result.views_last_24h,
            "views_last_7d": result.views_last_7d,
            "views_last_30d": result.views_last_30d,
            "views_by_day": [
                {"date": row[0], "views": int(row[1]), "unique_viewers": int(row[2]), "watch_time_seconds": int(row[3])}
                for row in result.days
            ],
        }
    )
