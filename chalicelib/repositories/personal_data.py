"""A person's rows: the views that carry their user id, and those views' events.

``VIEW_COLUMNS`` names every column of ``video_views`` the export shows; ``NOT_EXPORTED`` the
few it leaves out and why. A test compares both with the table, so a column added later is
either exported or explicitly kept out, never forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.domain.personal_data import RecordedEvent, RecordedView

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

VIEW_COLUMNS = (
    "id", "video_id", "user_id", "created_at", "last_seen_at", "ended_at", "watch_time_seconds", "completed",
    "last_position", "last_position_at", "played", "referer", "device_type", "browser", "os", "country",
    "ip_address", "ip_legacy", "is_team", "consented", "source", "startup_time_ms", "rebuffer_count",
    "rebuffer_ms", "error_code", "bitrate_kbps", "height", "qoe_at",
)  # fmt: skip
NOT_EXPORTED = {
    "played_folded": "bookkeeping of the refresh: the part of `played` already counted in the roll-ups",
}
EVENT_COLUMNS = ("id", "video_id", "view_id", "event_type", "timestamp", "is_team", "created_at")

# Aliased to the fields of RecordedView.
_VIEWS = text(
    """
    SELECT vw.id AS view_id, vw.video_id, v.title AS video_title, vw.created_at AS started_at, vw.last_seen_at,
           vw.ended_at, vw.watch_time_seconds, vw.completed, vw.last_position, vw.last_position_at,
           vw.played::text AS played, vw.referer, vw.device_type, vw.browser, vw.os, vw.country,
           vw.ip_address AS visitor_key, vw.ip_legacy AS visitor_key_legacy, vw.is_team, vw.consented, vw.source,
           vw.startup_time_ms, vw.rebuffer_count, vw.rebuffer_ms, vw.error_code, vw.bitrate_kbps, vw.height, vw.qoe_at
    FROM video_views vw JOIN videos v ON v.id = vw.video_id
    WHERE vw.user_id = :user_id
    ORDER BY vw.created_at, vw.id
    """
)
_EVENTS = text(
    """
    SELECT view_id, event_type, timestamp, created_at FROM video_events
    WHERE view_id = ANY(CAST(:views AS int[]))
    ORDER BY created_at, id
    """
)


def views_of(connection: Connection, user_id: int) -> list[RecordedView]:
    """Every view carrying ``user_id``, oldest first, each with its events."""
    rows = [dict(row._mapping) for row in connection.execute(_VIEWS, {"user_id": user_id})]
    events: dict[int, list[RecordedEvent]] = {row["view_id"]: [] for row in rows}
    if events:
        for event in connection.execute(_EVENTS, {"views": list(events)}):
            events[event.view_id].append(RecordedEvent(event.event_type, event.timestamp, event.created_at))
    return [RecordedView(**row, events=events[row["view_id"]]) for row in rows]
