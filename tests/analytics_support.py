"""Helpers shared by the analytics and retention tests: hand-built rows in real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text


def sql(statement: str, **params: Any) -> list[Any]:
    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result.all()) if result.returns_rows else []


def add_view(
    video_id: int,
    *,
    watch: int = 0,
    completed: bool = False,
    user_id: int | None = None,
    ip: str | None = None,
    referer: str | None = None,
    at: datetime | None = None,
) -> int:
    rows = sql(
        """
        INSERT INTO video_views (video_id, user_id, ip_address, referer, watch_time_seconds, completed, created_at)
        VALUES (:v, :u, :ip, :r, :w, :c, COALESCE(CAST(:at AS timestamptz), now())) RETURNING id
        """,
        v=video_id,
        u=user_id,
        ip=ip,
        r=referer,
        w=watch,
        c=completed,
        at=at,
    )
    return int(rows[0][0])


def add_event(video_id: int, kind: str, *, view_id: int | None = None, at: datetime | None = None) -> None:
    sql(
        """
        INSERT INTO video_events (video_id, view_id, event_type, timestamp, created_at)
        VALUES (:v, :view, :k, 1, COALESCE(CAST(:at AS timestamptz), now()))
        """,
        v=video_id,
        view=view_id,
        k=kind,
        at=at,
    )


def scheduled_event(client: Any) -> Any:
    return client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
