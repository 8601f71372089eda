"""Helpers shared by the analytics and retention tests: hand-built rows in real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.database import sql


def add_view(
    video_id: int,
    *,
    watch: int = 0,
    completed: bool = False,
    user_id: int | None = None,
    ip: str | None = None,
    referer: str | None = None,
    at: datetime | None = None,
    team: bool = False,
    **context: Any,
) -> int:
    """A view as tracking records it (a view with a user id is a consented one).

    ``context``: more columns of the view (``country``, ``device_type``, ``startup_time_ms``, ``qoe_at``, ...).
    """
    extra = "".join(f", {name}" for name in context)
    values = "".join(f", :{name}" for name in context)
    rows = sql(
        f"""
        INSERT INTO video_views (video_id, user_id, consented, ip_address, referer, watch_time_seconds, completed,
                                 created_at, is_team{extra})
        VALUES (:v, :u, CAST(:u AS int) IS NOT NULL, :ip, :r, :w, :c, COALESCE(CAST(:at AS timestamptz), now()), :team
                {values})
        RETURNING id
        """,
        **context,
        team=team,
        v=video_id,
        u=user_id,
        ip=ip,
        r=referer,
        w=watch,
        c=completed,
        at=at,
    )
    return int(rows[0][0])


def add_event(
    video_id: int, kind: str, *, view_id: int | None = None, at: datetime | None = None, team: bool = False
) -> None:
    sql(
        """
        INSERT INTO video_events (video_id, view_id, event_type, timestamp, created_at, is_team)
        VALUES (:v, :view, :k, 1, COALESCE(CAST(:at AS timestamptz), now()), :team)
        """,
        team=team,
        v=video_id,
        view=view_id,
        k=kind,
        at=at,
    )


def scheduled_event(client: Any) -> Any:
    return client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])


def refresh() -> Any:
    """The scheduled refresh, folding every row (none is too young to be committed in a test)."""
    from chalicelib.services.analytics import folding

    return folding.refresh(settle=timedelta(0))


def report(client: Any, headers: dict[str, str], path: str, **params: Any) -> Any:
    """GET an analytics route with query parameters; the answer must be a 200."""
    query = "&".join(f"{name}={value}" for name, value in params.items())
    response = client.http.get(f"{path}?{query}" if query else path, headers=headers)
    assert response.status_code == 200, response.body
    return response.json_body


def without_freshness(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without ``asOf``, which moves with every refresh (the figures must not)."""
    return {key: value for key, value in answer.items() if key != "asOf"}


ROLLUPS = {  # each roll-up table, and the column of it that says when it was written
    "analytics_hours": None,
    "analytics_measure_hours": None,
    "analytics_days": None,
    "analytics_referrers": None,
    "analytics_referrer_days": None,
    "analytics_audience_days": None,
    "analytics_totals": "updated_at",
    "analytics_breakdown_days": None,
    "analytics_breakdown_totals": None,
    "analytics_breakdown_blocks": None,
}


def rollup_digest() -> dict[str, tuple[int, str | None]]:
    """Each roll-up table's row count and a digest of its rows (in any order), but for when they were written."""
    digest = {}
    for table, written in ROLLUPS.items():
        columns = [
            name
            for (name,) in sql(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_name = :table AND table_schema = current_schema() ORDER BY ordinal_position""",
                table=table,
            )
            if name != written
        ]
        row = f"md5(ROW({', '.join(columns)})::text)"
        count, text = sql(f"SELECT count(*), md5(string_agg({row}, '' ORDER BY {row})) FROM {table}")[0]
        digest[table] = (int(count), text)
    return digest


def unfold() -> None:
    """Forget every roll-up and how far the refresh got, as before the first refresh (kept zones stay kept)."""
    for table in ROLLUPS:
        sql(f"DELETE FROM {table}")
    sql("DELETE FROM analytics_state")
    sql("UPDATE video_views SET played_folded = NULL WHERE played_folded IS NOT NULL")
