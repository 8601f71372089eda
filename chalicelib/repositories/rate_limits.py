"""Fixed one-minute windows counted in PostgreSQL, so every Lambda container shares them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def upsert_sql(bucket_sql: str, *, hits: str = "1", source: str = "") -> str:
    """The one counting upsert: adds ``hits`` (one request, or the items of a batch) and returns
    ``hits`` so far in the current window and ``retry_after``, the seconds left in it (the
    Retry-After of a refused request).

    ``bucket_sql`` is a bind parameter (``:bucket``) or, for the tracking statements
    that embed this in a CTE and are prepared once per bucket, a quoted literal. ``source``
    (``FROM ... WHERE ...``) makes the count conditional: no row selected, nothing counted
    and nothing returned.
    """
    return f"""
INSERT INTO rate_limit_counters AS c (bucket, client_key, window_start, hits)
SELECT {bucket_sql}, :client_key, date_trunc('minute', now()), {hits} {source}
ON CONFLICT (bucket, client_key, window_start) DO UPDATE SET hits = c.hits + EXCLUDED.hits
RETURNING c.hits,
  GREATEST(1, ceil(extract(epoch FROM c.window_start + interval '1 minute' - now())))::int AS retry_after
"""


HIT_SQL = upsert_sql(":bucket")
PURGE_SQL = "DELETE FROM rate_limit_counters WHERE window_start < now() - interval '10 minutes'"
# SQLAlchemy is imported in the functions below, not here: the tracking function (the
# only user of upsert_sql) runs on pg8000 alone and should not pay for importing it.


def hit(connection: Connection, bucket: str, client_key: str) -> tuple[int, int]:
    """Count one request; return ``(hits_in_window, seconds_left_in_window)``."""
    from sqlalchemy import text

    row = connection.execute(text(HIT_SQL), {"bucket": bucket, "client_key": client_key}).one()
    return int(row[0]), int(row[1])


def purge_expired(connection: Connection) -> int:
    from sqlalchemy import text

    return connection.execute(text(PURGE_SQL)).rowcount
