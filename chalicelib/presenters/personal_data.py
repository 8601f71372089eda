"""A person's recorded data to its answer."""

from __future__ import annotations

from chalicelib.domain import personal_data as domain
from chalicelib.domain import timestamps
from chalicelib.presenters.formats import iso_utc, number
from chalicelib.schemas import personal_data as schema


def personal_data(data: domain.PersonalData) -> schema.PersonalData:
    return schema.PersonalData(
        user_id=data.user_id,
        exported_at=timestamps.iso_utc(data.exported_at),
        views=[_view(view) for view in data.views],
    )


def _view(view: domain.RecordedView) -> schema.RecordedView:
    return schema.RecordedView(
        view_id=view.view_id,
        video_id=view.video_id,
        video_title=view.video_title,
        started_at=timestamps.iso_utc(view.started_at),
        last_seen_at=iso_utc(view.last_seen_at),
        ended_at=iso_utc(view.ended_at),
        watch_time_seconds=view.watch_time_seconds,
        completed=view.completed,
        last_position_seconds=None if view.last_position is None else number(view.last_position),
        last_position_at=iso_utc(view.last_position_at),
        played_hundredths=view.played_hundredths,
        referer=view.referer,
        device_type=view.device_type,
        browser=view.browser,
        os=view.os,
        country=view.country,
        visitor_key=view.visitor_key,
        visitor_key_legacy=view.visitor_key_legacy,
        is_team=view.is_team,
        consented=view.consented,
        source=view.source,
        qoe=schema.ViewQoe(
            startup_time_ms=view.startup_time_ms,
            rebuffer_count=view.rebuffer_count,
            rebuffer_ms=view.rebuffer_ms,
            error_code=view.error_code,
            bitrate_kbps=view.bitrate_kbps,
            height=view.height,
            reported_at=iso_utc(view.qoe_at),
        ),
        events=[
            schema.RecordedEvent(
                event_type=event.event_type, position_seconds=number(event.position), at=timestamps.iso_utc(event.at)
            )
            for event in view.events
        ],
    )


def erased(erasure: domain.Erasure) -> schema.Erased:
    return schema.Erased(
        user_id=erasure.user_id,
        erased_at=timestamps.iso_utc(erasure.erased_at),
        views_deleted=erasure.views_deleted,
        events_deleted=erasure.events_deleted,
        hours_refolded=erasure.hours_refolded,
        message=(
            f"Deleted {erasure.views_deleted} views and {erasure.events_deleted} events of user "
            f"{erasure.user_id}; the analytics were recomputed without them ({erasure.hours_refolded} hours "
            "refolded). No row links to this user any more."
        ),
    )
