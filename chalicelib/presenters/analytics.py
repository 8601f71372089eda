"""Analytics reports to answers: one function per figure group, shared by every report."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import metrics
from chalicelib.domain.figures import Figures
from chalicelib.presenters.formats import iso_utc
from chalicelib.repositories.analytics.totals import TopRow
from chalicelib.repositories.analytics.viewers import RegisteredViewer
from chalicelib.schemas import analytics as schema
from chalicelib.services.analytics import definitions
from chalicelib.services.analytics.audience import Curve
from chalicelib.services.analytics.breakdowns import Breakdown
from chalicelib.services.analytics.combine import Count, Point
from chalicelib.services.analytics.live import LibraryLive, VideoLive
from chalicelib.services.analytics.qoe import QoeSeries
from chalicelib.services.analytics.reports import Freshness, Overview, Top, VideoReport


def totals(figures: Figures, viewers: Count) -> dict[str, object]:
    views = figures.views
    return {
        "total_views": views,
        "unique_viewers": viewers.viewers,
        "unique_viewers_exact": viewers.exact,
        "total_watch_time_seconds": figures.watch_time_seconds,
        "average_watch_time_seconds": round(figures.watch_time_seconds / views, 2) if views else 0.0,
        "completion_rate": round(figures.completed_views * 100 / views, 2) if views else 0.0,
        "completed_views": figures.completed_views,
    }


def point(item: Point) -> dict[str, object]:
    return {
        **_label(item),
        "views": item.figures.views,
        "unique_viewers": item.viewers.viewers,
        "unique_viewers_exact": item.viewers.exact,
        "watch_time_seconds": item.figures.watch_time_seconds,
        "completed_views": item.figures.completed_views,
        "peak_concurrent_viewers": item.figures.peak_viewers,
    }


def qoe(series: QoeSeries, points: list[Point], hourly: bool) -> dict[str, object]:
    """The range's quality of experience and each point's, every figure derived by the registry."""
    qoe_metrics = metrics.qoe_metrics()
    by_point = [
        {**_label(item), **metrics.derive_all(sums, qoe_metrics)}
        for item, sums in zip(points, series.points, strict=True)
    ]
    return {
        **metrics.derive_all(series.total, qoe_metrics),
        "byDay": [] if hourly else by_point,
        "byHour": by_point if hourly else [],
    }


def _label(item: Point) -> dict[str, object]:
    label = item.span.label
    return {"hour": label.isoformat()} if isinstance(label, datetime) else {"date": label}


def breakdown(result: Breakdown) -> schema.Breakdown:
    return schema.Breakdown.model_validate(
        {
            "by": result.by,
            "metric": result.metric,
            "start_date": result.first,
            "end_date": result.last,
            "tz": result.zone,
            "include_team": result.include_team,
            "rows": [{"value": row.value, result.metric: row.figure} for row in result.rows],
            "as_of": iso_utc(result.as_of),
            "definitions": result.definitions,
        }
    )


def reported(freshness: Freshness, definitions: dict[str, str], include_team: bool) -> dict[str, object]:
    return {
        "as_of": iso_utc(freshness.as_of),
        "definitions": definitions,
        "tz": freshness.zone,
        "interval": freshness.interval,
        "include_team": include_team,
    }


def video_report(report: VideoReport, include_team: bool) -> schema.VideoAnalytics:
    return schema.VideoAnalytics.model_validate(
        {
            **_report(report, include_team),
            "video_id": report.video_id,
            "top_referrers": [{"referer": referer, "views": views} for referer, views in report.referrers],
        }
    )


def library_report(report: VideoReport, include_team: bool) -> schema.LibraryAnalytics:
    return schema.LibraryAnalytics.model_validate(_report(report, include_team))


def _report(report: VideoReport, include_team: bool) -> dict[str, object]:
    points = [point(item) for item in report.series.points]
    hourly = report.freshness.interval == "hour"
    return {
        **totals(report.series.figures, report.series.viewers),
        **reported(report.freshness, report.definitions, include_team),
        "event_counts": report.series.figures.event_counts(),
        "views_by_day": [] if hourly else points,
        "views_by_hour": points if hourly else [],
        "qoe": qoe(report.qoe, report.series.points, hourly),
    }


def overview(result: Overview, include_team: bool) -> schema.Overview:
    return schema.Overview.model_validate(
        {
            **totals(result.all_time.figures, result.all_time.viewers),
            **reported(result.freshness, result.definitions, include_team),
            "total_videos": result.total_videos,
            "published_videos": result.published_videos,
            "viewsLast24h": result.views_last_24h,
            "viewsLast7d": result.views_last_7d,
            "viewsLast30d": result.views_last_30d,
            "views_by_day": [point(item) for item in result.series.points],
            "qoe": qoe(result.qoe, result.series.points, hourly=False),
        }
    )


def top_videos(top: Top, metric: str, include_team: bool) -> schema.TopVideos:
    return schema.TopVideos.model_validate(
        {
            "as_of": iso_utc(top.as_of),
            "definitions": top.definitions,
            "metric": metric,
            "include_team": include_team,
            "videos": [_top_video(row) for row in top.rows],
        }
    )


def _top_video(row: TopRow) -> dict[str, object]:
    return {
        "id": row.video_id,
        "title": row.title,
        "views": row.views,
        "unique_viewers": row.viewers,
        "watch_time_seconds": row.watch_time_seconds,
        "completion_rate": round(row.completion_rate, 2),
    }


def registered_viewers(rows: list[RegisteredViewer]) -> schema.RegisteredViewers:
    return schema.RegisteredViewers.model_validate(
        {
            "viewers": [
                {
                    "user_id": row.user_id,
                    "name": row.name,
                    "email": row.email,
                    "views": row.views,
                    "watch_time_seconds": row.watch_time_seconds,
                    "last_viewed_at": iso_utc(row.last_viewed_at),
                }
                for row in rows
            ]
        }
    )


def aggregated(video_id: int, figures: Figures, viewers: Count) -> schema.Aggregated:
    return schema.Aggregated.model_validate({"analytics": {"video_id": video_id, **totals(figures, viewers)}})


def video_live(result: VideoLive) -> schema.VideoLive:
    return schema.VideoLive.model_validate(
        {
            "video_id": result.video_id,
            "concurrent_viewers": result.viewers,
            "as_of": iso_utc(result.as_of),
            "definitions": definitions.for_live(),
        }
    )


def library_live(result: LibraryLive) -> schema.LibraryLive:
    return schema.LibraryLive.model_validate(
        {
            "concurrent_viewers": result.viewers,
            "videos": [
                {"id": video.video_id, "title": video.title, "concurrent_viewers": video.viewers}
                for video in result.videos
            ],
            "as_of": iso_utc(result.as_of),
            "definitions": definitions.for_live(),
        }
    )


def retention(curve: Curve) -> schema.Retention:
    return schema.Retention.model_validate(
        {
            "video_id": curve.video_id,
            "duration": curve.duration,
            "views": curve.views,
            "start_date": curve.first,
            "end_date": curve.last,
            "points": [
                {"percent": percent, "viewers": viewers, "ratio": round(viewers / curve.views, 4) if curve.views else 0}
                for percent, viewers in enumerate(curve.viewers)
            ],
            "as_of": iso_utc(curve.as_of),
            "definitions": curve.definitions,
        }
    )
