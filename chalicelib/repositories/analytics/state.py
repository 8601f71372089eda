"""The refresh's own state: how far raw rows are folded, and the time zones whose days it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

FOLDED_UNTIL = "folded_until"  # raw rows created before this instant are in the hours
FOLD_FLOOR = "fold_floor"  # set by migration 0004: raw rows before it were already gone
RAW_KEPT_FROM = "raw_kept_from"  # set by retention: every raw row from this instant on is kept
# Set by migration 0013: raw rows from here up to the watermark are still to fold into the breakdown roll-ups.
BREAKDOWNS_BACKFILL = "breakdowns_backfill"
# Set by migration 0019: the UTC day from which blocks of days are still to build for the days folded before it.
BLOCKS_BACKFILL = "breakdown_blocks_backfill"

# Set while a backlog is folded on several connections (``services.analytics.backlog``): how far every week is
# folded beyond the watermark, whose hours are in no all-time total yet.
BACKLOG_DONE = "backlog_folded_until"

# One refresh folds at a time; a second one waits at each step and then sees the work done. Its folds
# sort and hash a day's views several ways: memory for that, for this transaction only (SET LOCAL).
_WORK_MEM = "set_config('work_mem', '64MB', true)"
_LOCK = text(f"SELECT pg_advisory_xact_lock(hashtext('media-api:analytics-refresh')), {_WORK_MEM}")
_MEMORY = text(f"SELECT {_WORK_MEM}")
_GET = text("SELECT at FROM analytics_state WHERE name = :name")
_ALL = text("SELECT name, at FROM analytics_state")
_FORGET = text("DELETE FROM analytics_state WHERE name = :name")
_SET = text(
    "INSERT INTO analytics_state (name, at) VALUES (:name, :at) ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at"
)
_ZONES = text("SELECT zone, requested_at, materialized_at FROM analytics_zones ORDER BY zone")
_ASK_ZONE = text(
    "INSERT INTO analytics_zones (zone) VALUES (:zone) ON CONFLICT (zone) DO UPDATE SET requested_at = now()"
)
_MATERIALIZED = text("UPDATE analytics_zones SET materialized_at = :at WHERE zone = :zone")
_FORGET_IDLE = text(
    "DELETE FROM analytics_zones WHERE zone <> 'UTC' AND requested_at < now() - make_interval(days => :days)"
)


@dataclass(frozen=True)
class Zone:
    zone: str
    requested_at: datetime
    materialized_at: datetime | None


def lock(connection: Connection) -> None:
    """Hold the refresh lock until the caller's transaction ends."""
    connection.execute(_LOCK)


def size_memory(connection: Connection) -> None:
    """A fold's memory for sorts and hashes, for the caller's transaction only (a backlog's workers)."""
    connection.execute(_MEMORY)


def instant(connection: Connection, name: str) -> datetime | None:
    return connection.execute(_GET, {"name": name}).scalar()


def instants(connection: Connection) -> dict[str, datetime]:
    return {str(row.name): row.at for row in connection.execute(_ALL)}


def set_instant(connection: Connection, name: str, at: datetime) -> None:
    connection.execute(_SET, {"name": name, "at": at})


def forget_instant(connection: Connection, name: str) -> None:
    connection.execute(_FORGET, {"name": name})


def zones(connection: Connection) -> dict[str, Zone]:
    """The zones whose days are kept (``materialized_at`` None: asked for, not built yet)."""
    return {
        str(row.zone): Zone(str(row.zone), row.requested_at, row.materialized_at) for row in connection.execute(_ZONES)
    }


def ask_for_zone(connection: Connection, zone: str) -> None:
    connection.execute(_ASK_ZONE, {"zone": zone})


def mark_materialized(connection: Connection, zone: str, at: datetime) -> None:
    connection.execute(_MATERIALIZED, {"zone": zone, "at": at})


def forget_idle_zones(connection: Connection, idle_days: int) -> int:
    return connection.execute(_FORGET_IDLE, {"days": idle_days}).rowcount
