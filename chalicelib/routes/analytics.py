"""Admin analytics routes: ``/api/videos/{id}/analytics*``, ``/api/videos/analytics/*``, reset."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.repositories.analytics import Totals
from chalicelib.routes.http import RequestContext, api_route, parse_id
from chalicelib.routes.presenters import iso_utc, number
from chalicelib.services import analytics as analytics_service

bp = Blueprint(__name__)


def _totals_json(totals: Totals) -> dict[str, Any]:
    return {
        "totalViews": totals.views,
        "uniqueViewers": totals.unique_viewers,
        "totalWatchTimeSeconds": totals.watch_time_seconds,
        "averageWatchTimeSeconds": round(totals.average_watch_time, 2),
        "completionRate": round(totals.completion_rate, 2),
        "completedViews": totals.completed_views,
    }


@api_route(bp, "/videos/{video_id}/analytics", auth="admin")
def video_analytics(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    report = analytics_service.video_report(
        parse_id(video_id),
        analytics_service.parse_day(ctx.query("startDate"), "startDate"),
        analytics_service.parse_day(ctx.query("endDate"), "endDate"),
    )
    return {
        "videoId": report.video_id,
        **_totals_json(report.totals),
        "eventCounts": report.event_counts,
        "viewsByDay": [
            {
                "date": day.day.isoformat(),
                "views": day.views,
                "uniqueViewers": day.unique_viewers,
                "watchTimeSeconds": day.watch_time_seconds,
            }
            for day in report.days
        ],
        "topReferrers": [{"referer": referer, "views": views} for referer, views in report.referrers],
    }


@api_route(bp, "/videos/{video_id}/analytics/viewers", auth="admin")
def video_viewers(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    limit = ctx.query_int("limit", 1000, minimum=1, maximum=1000)
    rows = analytics_service.registered_viewers(parse_id(video_id), limit)
    return {
        "viewers": [
            {
                "userId": row[0],
                "name": row[1],
                "email": row[2],
                "views": int(row[3]),
                "watchTimeSeconds": int(row[4] or 0),
                "lastViewedAt": iso_utc(row[5]),
            }
            for row in rows
        ]
    }


@api_route(bp, "/videos/{video_id}/analytics/aggregate", ["POST"], auth="admin")
def aggregate(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    identifier = parse_id(video_id)
    totals = analytics_service.aggregate_video(identifier)
    return {"success": True, "analytics": {"videoId": identifier, **_totals_json(totals)}}


@api_route(bp, "/videos/{video_id}/reset-analytics", ["POST"], auth="admin")
def reset_analytics(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    analytics_service.reset(parse_id(video_id))
    return {"success": True}


@api_route(bp, "/videos/analytics/top", auth="admin")
def top_videos(ctx: RequestContext) -> dict[str, Any]:
    metric = ctx.query_choice("metric", analytics_service.TOP_METRICS) or "views"
    limit = ctx.query_int("limit", 10, minimum=1, maximum=100)
    rows = analytics_service.top_videos(metric, limit)
    return {
        "metric": metric,
        "videos": [
            {
                "id": row[0],
                "title": row[1],
                "views": int(row[2]),
                "uniqueViewers": int(row[4]),
                "watchTimeSeconds": int(row[3]),
                "completionRate": number(row[5]),
            }
            for row in rows
        ],
    }


@api_route(bp, "/videos/analytics/overview", auth="admin")
def overview(ctx: RequestContext) -> dict[str, Any]:
    result = analytics_service.overview()
    totals = _totals_json(result.totals)
    totals.pop("completedViews")
    return {
        "totalVideos": result.total_videos,
        "publishedVideos": result.published_videos,
        **totals,
        "viewsLast24h": result.views_last_24h,
        "viewsLast7d": result.views_last_7d,
        "viewsLast30d": result.views_last_30d,
        "viewsByDay": [
            {
                "date": row[0].isoformat(),
                "views": int(row[1]),
                "uniqueViewers": int(row[2]),
                "watchTimeSeconds": int(row[3]),
            }
            for row in result.days
        ],
    }
