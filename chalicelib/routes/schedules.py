"""Scheduled publish/unpublish (admin): the seed's Video Schedule Routes."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.db.models import VideoScheduleHistory
from chalicelib.routes.http import RequestContext, api_route, parse_id
from chalicelib.routes.presenters import iso_utc
from chalicelib.services import scheduling

bp = Blueprint(__name__)


class SchedulePublishBody(BaseModel):
    """``publishAt``: ISO 8601; with an offset/``Z`` an instant, without one wall time in ``timezone``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    publish_at: str = Field(alias="publishAt")
    timezone: str | None = None


class ScheduleUnpublishBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    unpublish_at: str = Field(alias="unpublishAt")
    timezone: str | None = None


def _scheduled(result: scheduling.Scheduled) -> dict[str, Any]:
    return {"jobId": result.job_id, "scheduledFor": iso_utc(result.scheduled_for)}


@api_route(bp, "/videos/{video_id}/schedule-publish", ["POST"], auth="admin")
def schedule_publish(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    body = ctx.json(SchedulePublishBody)
    assert ctx.user_id is not None  # admin auth guarantees a principal
    result = scheduling.schedule_action(parse_id(video_id), "publish", body.publish_at, body.timezone, ctx.user_id)
    return _scheduled(result)


@api_route(bp, "/videos/{video_id}/schedule-unpublish", ["POST"], auth="admin")
def schedule_unpublish(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    body = ctx.json(ScheduleUnpublishBody)
    assert ctx.user_id is not None
    result = scheduling.schedule_action(parse_id(video_id), "unpublish", body.unpublish_at, body.timezone, ctx.user_id)
    return _scheduled(result)


@api_route(bp, "/videos/{video_id}/schedule/{action}", ["DELETE"], auth="admin")
def cancel_schedule(ctx: RequestContext, video_id: str, action: str) -> dict[str, Any]:
    scheduling.check_action(action)
    scheduling.cancel_action(parse_id(video_id), action)
    return {"success": True, "message": f"{action} schedule cancelled"}


@api_route(bp, "/videos/schedules/upcoming", auth="admin")
def upcoming_schedules(ctx: RequestContext) -> dict[str, Any]:
    limit = ctx.query_int("limit", 100, minimum=1, maximum=500)
    return {
        "schedules": [
            {
                "jobId": scheduling.schedule_name(row.video_id, row.action),
                "videoId": row.video_id,
                "title": title,
                "action": row.action,
                "scheduledFor": iso_utc(row.scheduled_for),
                "timezone": row.timezone,
                "scheduledByUserId": row.scheduled_by_user_id,
            }
            for row, title in scheduling.upcoming(limit)
        ]
    }


@api_route(bp, "/videos/{video_id}/schedule-history", auth="admin")
def schedule_history(ctx: RequestContext, video_id: str) -> dict[str, Any]:
    return {"history": [_history_json(row) for row in scheduling.history(parse_id(video_id))]}


def _history_json(row: VideoScheduleHistory) -> dict[str, Any]:
    return {
        "id": row.id,
        "action": row.action,
        "scheduledFor": iso_utc(row.scheduled_for),
        "executedAt": iso_utc(row.executed_at),
        "status": row.status,
        "error": row.error,
        "scheduledByUserId": row.scheduled_by_user_id,
        "createdAt": iso_utc(row.created_at),
    }
