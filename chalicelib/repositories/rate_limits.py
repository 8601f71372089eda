"""Fixed one-minute windows counted in PostgreSQL, so every Lambda container shares them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# One upsert per request; returns the hits so far in the current window and the
# seconds left in it (the Retry-After of a refused request).
HIT_SQL = """
INSERT INTO rate_limit_counters AS c (bucket, client_key, window_start, hits)
VALUES (:bucket, :client_key, date_trunc('minute', now()), 1)
ON CONFLICT (bucket, client_key, window_start) DO UPDATE SET hits = c.hits + 1
RETURNING c.hits, GREATEST(1, ceil(extract(epoch FROM c.window_start + interval '1 minute' - now())))::int
"""
_HIT = text(HIT_SQL)
_PURGE = text("DELETE FROM rate_limit_counters WHERE window_start < now() - interval '10 minutes'")


def hit(connection: Connection, bucket: str, client_key: str) -> tuple[int, int]:
    """Count one request; return ``(hits_in_window, seconds_left_in_window)``."""
    row = connection.execute(_HIT, {"bucket": bucket, "client_key": client_key}).one()
    return int(row[0]), int(row[1])


def purge_expired(connection: Connection) -> int:
    return connection.execute(_PURGE).rowcount
