"""Removing analytics: a video's reset (or deletion), and retention of raw rows.

A video's figures are also in the library's (scope 0): its additive figures are
subtracted there in the same transaction. The library's viewer sketches cannot forget
anyone, so the library's distinct viewers keep the video's past viewers (README).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from chalicelib.repositories.analytics import breakdowns
from chalicelib.repositories.analytics.figures import ADDITIVE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_SUBTRACT = ", ".join(f"{name} = greatest(lib.{name} - v.{name}, 0)" for name in ADDITIVE)
_FORGET_VIDEO = (
    text(
        f"""UPDATE analytics_hours lib SET {_SUBTRACT} FROM analytics_hours v
            WHERE v.scope_id = :video_id AND lib.scope_id = 0 AND lib.hour = v.hour AND lib.team = v.team"""
    ),
    text(
        f"""UPDATE analytics_days lib SET {_SUBTRACT} FROM analytics_days v
            WHERE v.scope_id = :video_id AND lib.scope_id = 0 AND lib.zone = v.zone AND lib.day = v.day
              AND lib.team = v.team"""
    ),
    text(
        """UPDATE analytics_totals lib SET views = greatest(lib.views - v.views, 0),
               watch_time_seconds = greatest(lib.watch_time_seconds - v.watch_time_seconds, 0),
               completed_views = greatest(lib.completed_views - v.completed_views, 0)
           FROM analytics_totals v WHERE v.scope_id = :video_id AND lib.scope_id = 0 AND lib.team = v.team"""
    ),
    text("DELETE FROM analytics_hours WHERE scope_id = :video_id"),
    text("DELETE FROM analytics_days WHERE scope_id = :video_id"),
    text("DELETE FROM analytics_totals WHERE scope_id = :video_id"),
    text("DELETE FROM analytics_referrers WHERE video_id = :video_id"),
    text("DELETE FROM analytics_referrer_days WHERE video_id = :video_id"),
    text("DELETE FROM analytics_audience_days WHERE video_id = :video_id"),
)
_DELETE_RAW = (
    text("DELETE FROM video_events WHERE video_id = :video_id"),
    text("DELETE FROM video_views WHERE video_id = :video_id"),
)
# Whole months go by dropping their partition (repositories/partitions.py); only the default
# partition's strays are deleted row by row.
_DELETE_BATCH = {
    table: text(
        f"""DELETE FROM {table}_default WHERE id IN (
              SELECT id FROM {table}_default WHERE created_at < :before LIMIT :batch)"""
    )
    for table in ("video_views", "video_events")
}


def forget_video(connection: Connection, video_id: int) -> None:
    """Remove a video's roll-ups (and its share of the library's), in the caller's transaction."""
    for statement in _FORGET_VIDEO:
        connection.execute(statement, {"video_id": video_id})
    breakdowns.forget_video(connection, video_id)


def reset_video(connection: Connection, video_id: int) -> None:
    """Delete a video's raw rows and roll-ups (caller's transaction): every answer then counts nothing for it."""
    for statement in _DELETE_RAW:
        connection.execute(statement, {"video_id": video_id})
    forget_video(connection, video_id)


_DELETE_USER_EVENTS = text(
    """DELETE FROM video_events WHERE view_id IN (SELECT id FROM video_views WHERE user_id = :user_id)
       RETURNING created_at"""
)
_DELETE_USER_VIEWS = text("DELETE FROM video_views WHERE user_id = :user_id RETURNING created_at")


def delete_user_views(connection: Connection, user_id: int) -> tuple[list[datetime], list[datetime]]:
    """Delete the views carrying ``user_id`` and their events; return when each deleted view and event was made."""
    events = [row.created_at for row in connection.execute(_DELETE_USER_EVENTS, {"user_id": user_id})]
    views = [row.created_at for row in connection.execute(_DELETE_USER_VIEWS, {"user_id": user_id})]
    return views, events


def delete_raw_batch(connection: Connection, table: str, before: datetime, batch: int) -> int:
    """Delete up to ``batch`` rows of ``table``'s default partition created before ``before``."""
    return connection.execute(_DELETE_BATCH[table], {"before": before, "batch": batch}).rowcount
