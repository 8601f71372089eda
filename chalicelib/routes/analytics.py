"""Admin analytics routes: ``/api/videos/{id}/analytics*``, ``/api/videos/analytics/*``, reset."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.presenters import analytics as present
from chalicelib.schemas import analytics as schema
from chalicelib.schemas.base import Success
from chalicelib.services.analytics import audience, breakdowns, live, maintenance, reports
from chalicelib.web.request import RequestContext
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)


@api_route(
    bp,
    "/videos/{video_id}/analytics",
    summary="A video's analytics",
    auth="admin",
    query=schema.RangeQuery,
    response=schema.VideoAnalytics,
)
def video_analytics(ctx: RequestContext, video_id: int) -> schema.VideoAnalytics:
    """Totals, event counts, a gap-free series of local days (or hours) and the top referrers."""
    params: schema.RangeQuery = ctx.params
    return present.video_report(reports.video_report(video_id, _window(params)), params.include_team)


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
    return present.registered_viewers(reports.registered_viewers(video_id, params.limit, params.include_team))


@api_route(
    bp,
    "/videos/{video_id}/analytics/aggregate",
    "POST",
    summary="A video's all-time figures",
    auth="admin",
    response=schema.Aggregated,
)
def aggregate(ctx: RequestContext, video_id: int) -> schema.Aggregated:
    """The module's aggregate: the figures every answer shows for the video, counted now."""
    result = reports.aggregate_video(video_id)
    return present.aggregated(video_id, result.figures, result.viewers)


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
    maintenance.reset(video_id)
    return Success()


@api_route(
    bp, "/videos/analytics/top", summary="Top videos", auth="admin", query=schema.TopQuery, response=schema.TopVideos
)
def top_videos(ctx: RequestContext) -> schema.TopVideos:
    """Ranked on all-time views or watch time."""
    params: schema.TopQuery = ctx.params
    top = reports.top_videos(params.metric, params.limit, params.include_team)
    return present.top_videos(top, params.metric, params.include_team)


@api_route(
    bp,
    "/videos/analytics/overview",
    summary="Library overview",
    auth="admin",
    query=schema.OverviewQuery,
    response=schema.Overview,
)
def overview(ctx: RequestContext) -> schema.Overview:
    """Library totals, views over the last 24 hours / 7 / 30 days, and the last 30 local days."""
    params: schema.OverviewQuery = ctx.params
    window = reports.Window(tz=params.tz, include_team=params.include_team)
    return present.overview(reports.overview(window), params.include_team)


@api_route(
    bp,
    "/videos/analytics/report",
    summary="The library's analytics over a range",
    auth="admin",
    query=schema.RangeQuery,
    response=schema.LibraryAnalytics,
)
def library_analytics(ctx: RequestContext) -> schema.LibraryAnalytics:
    """Every video's views together, as a video's report: by day, or by hour with concurrent viewers."""
    params: schema.RangeQuery = ctx.params
    return present.library_report(reports.library_report(_window(params)), params.include_team)


def _window(params: schema.RangeQuery) -> reports.Window:
    return reports.Window(params.start_date, params.end_date, params.tz, params.interval, params.include_team)


@api_route(
    bp,
    "/videos/{video_id}/analytics/live",
    summary="A video's live viewers",
    auth="admin",
    query=schema.TeamQuery,
    response=schema.VideoLive,
)
def video_live(ctx: RequestContext, video_id: int) -> schema.VideoLive:
    """Players whose last view, event or heartbeat is at most 30 s old; cheap enough to poll every 10 s."""
    params: schema.TeamQuery = ctx.params
    return present.video_live(live.video(video_id, params.include_team))


@api_route(
    bp,
    "/videos/analytics/live",
    summary="Live viewers of the library",
    auth="admin",
    query=schema.LiveQuery,
    response=schema.LibraryLive,
)
def library_live(ctx: RequestContext) -> schema.LibraryLive:
    """All live viewers, and the videos being watched, busiest first."""
    params: schema.LiveQuery = ctx.params
    return present.library_live(live.library(params.include_team, params.limit))


@api_route(
    bp,
    "/videos/{video_id}/analytics/retention",
    summary="A video's audience retention",
    auth="admin",
    query=schema.RetentionQuery,
    response=schema.Retention,
)
def video_retention(ctx: RequestContext, video_id: int) -> schema.Retention:
    """For each hundredth of the video, the views that played it, over views started in [startDate, endDate]."""
    params: schema.RetentionQuery = ctx.params
    return present.retention(audience.curve(video_id, params.start_date, params.end_date, params.include_team))


@api_route(
    bp,
    "/videos/{video_id}/analytics/breakdown",
    summary="A video's figures per country, device, browser, OS or referrer host",
    auth="admin",
    query=schema.BreakdownQuery,
    response=schema.Breakdown,
)
def video_breakdown(ctx: RequestContext, video_id: int) -> schema.Breakdown:
    """One row per value of the dimension ``by``, largest ``metric`` first, over the local days of the range."""
    return present.breakdown(_breakdown(ctx, video_id))


@api_route(
    bp,
    "/videos/analytics/breakdown",
    summary="The library's figures per country, device, browser, OS or referrer host",
    auth="admin",
    query=schema.BreakdownQuery,
    response=schema.Breakdown,
)
def library_breakdown(ctx: RequestContext) -> schema.Breakdown:
    """One row per value of the dimension ``by``, largest ``metric`` first, over the local days of the range."""
    return present.breakdown(_breakdown(ctx, breakdowns.LIBRARY))


def _breakdown(ctx: RequestContext, scope: int) -> breakdowns.Breakdown:
    params: schema.BreakdownQuery = ctx.params
    window = reports.Window(params.start_date, params.end_date, params.tz, "day", params.include_team)
    return breakdowns.breakdown(scope, params.by, params.metric, window)
