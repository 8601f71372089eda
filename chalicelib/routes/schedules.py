"""Scheduled publish/unpublish (admin): schedule, cancel, upcoming, failed and a video's history."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.schedule import ScheduleEntry
from chalicelib.domain.timestamps import iso_utc as instant
from chalicelib.presenters.formats import iso_utc
from chalicelib.schemas.base import SuccessWithMessage
from chalicelib.schemas.schedules import (
    FailedQuery,
    FailedSchedules,
    HistoryEntry,
    Scheduled,
    ScheduleHistory,
    SchedulePublishBody,
    ScheduleUnpublishBody,
    UpcomingQuery,
    UpcomingSchedule,
    UpcomingSchedules,
)
from chalicelib.services.scheduling import actions as scheduling
from chalicelib.services.scheduling.times import schedule_name
from chalicelib.web.request import RequestContext
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)
_SCHEDULING_STATUSES = (403, 404, 422)


def _scheduled(result: scheduling.Scheduled) -> Scheduled:
    return Scheduled(job_id=result.job_id, scheduled_for=instant(result.scheduled_for))


def _admin_id(ctx: RequestContext) -> int:
    assert ctx.user_id is not None  # admin auth guarantees a principal
    return ctx.user_id


@api_route(
    bp,
    "/videos/{video_id}/schedule-publish",
    "POST",
    summary="Schedule a publish",
    auth="admin",
    body=SchedulePublishBody,
    response=Scheduled,
    extra_statuses=_SCHEDULING_STATUSES,
)
def schedule_publish(ctx: RequestContext, video_id: int) -> Scheduled:
    """At least a minute and at most five years ahead; replaces a pending publish. A wall-clock time that
    does not exist (spring-forward gap) is 422; an ambiguous one (fall-back) takes its first occurrence."""
    body: SchedulePublishBody = ctx.body
    return _scheduled(scheduling.schedule_action(video_id, "publish", body.publish_at, body.timezone, _admin_id(ctx)))


@api_route(
    bp,
    "/videos/{video_id}/schedule-unpublish",
    "POST",
    summary="Schedule an unpublish",
    auth="admin",
    body=ScheduleUnpublishBody,
    response=Scheduled,
    extra_statuses=_SCHEDULING_STATUSES,
)
def schedule_unpublish(ctx: RequestContext, video_id: int) -> Scheduled:
    """As schedule-publish; must come after a pending publish."""
    body: ScheduleUnpublishBody = ctx.body
    return _scheduled(
        scheduling.schedule_action(video_id, "unpublish", body.unpublish_at, body.timezone, _admin_id(ctx))
    )


@api_route(
    bp,
    "/videos/{video_id}/schedule/{action}",
    "DELETE",
    summary="Cancel a scheduled publish or unpublish",
    auth="admin",
    response=SuccessWithMessage,
)
def cancel_schedule(ctx: RequestContext, video_id: int, action: str) -> SuccessWithMessage:
    scheduling.cancel_action(video_id, action)
    return SuccessWithMessage(message=f"{action} schedule cancelled")


@api_route(
    bp,
    "/videos/schedules/upcoming",
    summary="List upcoming schedules",
    auth="admin",
    query=UpcomingQuery,
    response=UpcomingSchedules,
)
def upcoming_schedules(ctx: RequestContext) -> UpcomingSchedules:
    """Pending scheduled actions, soonest first."""
    params: UpcomingQuery = ctx.params
    return UpcomingSchedules(
        schedules=[
            UpcomingSchedule(
                job_id=schedule_name(row.video_id, row.action),
                video_id=row.video_id,
                title=title,
                action=row.action,  # type: ignore[arg-type]
                scheduled_for=instant(row.scheduled_for),
                timezone=row.timezone,
                scheduled_by_user_id=row.scheduled_by_user_id,
            )
            for row, title in scheduling.upcoming(params.limit)
        ]
    )


@api_route(
    bp,
    "/videos/schedules/failed",
    summary="List recently failed schedules",
    auth="admin",
    query=FailedQuery,
    response=FailedSchedules,
)
def failed_schedules(ctx: RequestContext) -> FailedSchedules:
    """Scheduled actions that failed in the last ``days`` days, newest first (``make schedules`` shows them too)."""
    params: FailedQuery = ctx.params
    return FailedSchedules.model_validate(
        {
            "schedules": [
                {
                    "job_id": schedule_name(row.video_id, row.action),
                    "video_id": row.video_id,
                    "title": title,
                    "action": row.action,
                    "scheduled_for": iso_utc(row.scheduled_for),
                    "executed_at": iso_utc(row.executed_at),
                    "error": row.error,
                }
                for row, title in scheduling.recently_failed(params.days, params.limit)
            ]
        }
    )


@api_route(
    bp,
    "/videos/{video_id}/schedule-history",
    summary="A video's schedule history",
    auth="admin",
    response=ScheduleHistory,
)
def schedule_history(ctx: RequestContext, video_id: int) -> ScheduleHistory:
    """Every scheduled action of the video, newest first (pending, completed, failed, cancelled, skipped)."""
    return ScheduleHistory(history=[_history_entry(row) for row in scheduling.history(video_id)])


def _history_entry(row: ScheduleEntry) -> HistoryEntry:
    return HistoryEntry.model_validate(
        {
            "id": row.id,
            "action": row.action,
            "scheduled_for": iso_utc(row.scheduled_for),
            "executed_at": iso_utc(row.executed_at),
            "status": row.status,
            "error": row.error,
            "scheduled_by_user_id": row.scheduled_by_user_id,
            "created_at": iso_utc(row.created_at),
        }
    )
