"""Scheduled Lambda functions of analytics.

* ``refresh_video_analytics`` (every 5 minutes): folds closed days into the daily
  roll-ups, re-aggregates the stored totals of every video with recent views,
  refreshes the library's distinct-viewer count and purges expired rate-limit windows.
* ``analytics_retention`` (daily, 03:15 UTC): folds raw views/events older than
  ``VIDEO_ANALYTICS_RETENTION_DAYS`` into daily roll-ups, then deletes them.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.observability import event_function, logger, metrics
from chalicelib.services import analytics, retention

bp = Blueprint(__name__)

REFRESH_RATE = "rate(5 minutes)"
RETENTION_CRON = "cron(15 3 * * ? *)"
# Views started within this window can still gain watch time or complete.
REFRESH_LOOKBACK_SECONDS = 24 * 3600


@bp.schedule(REFRESH_RATE, name="refresh_video_analytics", description="Refresh stored video analytics")
@event_function
def refresh_video_analytics(event: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from chalicelib.db.engine import get_engine
    from chalicelib.repositories import rate_limits

    result = analytics.refresh(REFRESH_LOOKBACK_SECONDS)
    with get_engine().begin() as connection:
        result["rateLimitRowsPurged"] = rate_limits.purge_expired(connection)
    metrics.add_metric(name="VideosAggregated", unit=MetricUnit.Count, value=result["videosRefreshed"])
    logger.info("Refreshed video analytics", extra=result)
    return result


@bp.schedule(RETENTION_CRON, name="analytics_retention", description="Fold and delete old analytics rows")
@event_function
def analytics_retention(event: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    result = retention.run(budget_seconds=_budget_seconds(event))
    metrics.add_metric(name="RetentionViewsDeleted", unit=MetricUnit.Count, value=result.views_deleted)
    metrics.add_metric(name="RetentionEventsDeleted", unit=MetricUnit.Count, value=result.events_deleted)
    return dict(result.__dict__)


def _budget_seconds(event: Any) -> float:
    """Stop deleting well before the Lambda timeout (the next run carries on)."""
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return retention.TIME_BUDGET_SECONDS
    return max(1.0, min(retention.TIME_BUDGET_SECONDS, remaining() / 1000 - 30))
