"""The salts of anonymous visitor keys: one per UTC day, and only the current day's is kept.

Read on the tracking hot path once per container and day (the key itself is computed in
Python), through the same prepared, autocommitted statements as tracking writes.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from chalicelib.db import fastpath

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# The day's salt: ``:salt`` becomes it unless another container stored one first. Earlier days'
# salts are deleted in the same statement (data-modifying CTEs always run).
SALT_SQL = """
WITH stale AS (DELETE FROM visitor_salts WHERE day < CAST(:day AS date)),
fresh AS (
  INSERT INTO visitor_salts (day, salt) VALUES (CAST(:day AS date), CAST(:salt AS bytea))
  ON CONFLICT (day) DO NOTHING
  RETURNING salt
)
SELECT salt FROM fresh UNION ALL SELECT salt FROM visitor_salts WHERE day = CAST(:day AS date)
"""
_FORGET = "DELETE FROM visitor_salts WHERE day < CAST(now() AT TIME ZONE 'UTC' AS date)"


def salt_of(day: date, fresh: bytes) -> bytes | None:
    """The salt of ``day``, ``fresh`` when it is the first; None when another container's is not visible yet."""
    rows = fastpath.run("visitor_salt", SALT_SQL, {"day": day, "salt": fresh})
    return bytes(rows[0][0]) if rows else None


def forget_earlier_days(connection: Connection) -> int:
    """Delete every salt of a day before today (UTC): the keys of those days can no longer be recomputed."""
    from sqlalchemy import text

    return connection.execute(text(_FORGET)).rowcount
