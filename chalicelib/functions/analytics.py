"""Scheduled Lambda functions of analytics.

* ``refresh_video_analytics`` (every minute): folds new raw views and events into
  hourly roll-ups with viewer sketches, rebuilds the days of the time zones in use and
  the all-time totals (copied onto each video row), and purges expired rate-limit windows and
  the visitor salts of past days (the tracking path deletes them too, when a day's first view comes).
* ``analytics_retention`` (daily, 03:15 UTC): deletes raw views/events older than
  ``VIDEO_ANALYTICS_RETENTION_DAYS`` once folded; roll-ups keep every figure.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.functions.declaration import EventFunction
from chalicelib.observability import event_function, logger, metrics

bp = Blueprint(__name__)

# Every minute: the raw tail every answer reads on top of the roll-ups stays about two minutes of
# traffic (a minute between runs and the fold's 60 s settle). Cost: docs/analytics.md, "One set of figures".
REFRESH_RATE = "rate(1 minute)"
RETENTION_CRON = "cron(15 3 * * ? *)"
# The batch functions wait on the database longer than the API (a backlog fold of one day
# of a 10M library outlasts 10 s) and less than their own timeout.
REFRESH = EventFunction(
    "refresh_video_analytics",
    "fold new views into the analytics roll-ups",
    timeout=300,
    environment={"DATABASE_TIMEOUT_SECONDS": "240"},
)
RETENTION = EventFunction(
    "analytics_retention",
    "delete folded raw analytics rows",
    timeout=900,
    environment={"DATABASE_TIMEOUT_SECONDS": "840"},
)


@bp.schedule(REFRESH_RATE, name=REFRESH.name, description="Fold new views into analytics roll-ups")
@event_function
def refresh_video_analytics(event: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from chalicelib.db.engine import transaction
    from chalicelib.repositories import rate_limits, visitor_salts
    from chalicelib.services.analytics import folding

    result = folding.refresh(budget_seconds=_budget_seconds(event, folding.TIME_BUDGET_SECONDS))
    answer: dict[str, Any] = dict(result.__dict__)
    with transaction() as connection:
        answer["rateLimitRowsPurged"] = rate_limits.purge_expired(connection)
        answer["visitorSaltsForgotten"] = visitor_salts.forget_earlier_days(connection)
    metrics.add_metric(name="AnalyticsScopesUpdated", unit=MetricUnit.Count, value=result.scopes_updated)
    logger.info("Refreshed video analytics", extra=answer)
    return answer


@bp.schedule(RETENTION_CRON, name=RETENTION.name, description="Delete folded raw analytics rows")
@event_function
def analytics_retention(event: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from chalicelib.services.analytics import retention

    result = retention.run(budget_seconds=_budget_seconds(event, retention.TIME_BUDGET_SECONDS))
    metrics.add_metric(name="RetentionViewsDeleted", unit=MetricUnit.Count, value=result.views_deleted)
    metrics.add_metric(name="RetentionEventsDeleted", unit=MetricUnit.Count, value=result.events_deleted)
    return dict(result.__dict__)


def _budget_seconds(event: Any, default: float) -> float:
    """Stop well before the Lambda timeout (the next run carries on)."""
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return default
    return max(1.0, min(default, remaining() / 1000 - 30))
