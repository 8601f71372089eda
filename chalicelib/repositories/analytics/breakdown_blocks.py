"""Each breakdown value's viewer sketch per aligned block of 2 to 256 UTC days (``chalicelib.domain.day_blocks``),
for the scopes with many views in the block.

A block's sketch is the merge of its two halves': a half's own block where the half is heavy (it was
built, halves first), else the half's days. So building a block costs a merge or two per value whatever
its length. The fold builds the blocks holding the days it writes once they are whole (:func:`build`),
in its own transaction, so a report never reads a block older than its days; reports read a range's
heavy blocks and the days of the rest in one statement (:func:`range_sketches`). Whether a block is
heavy is read from the scope's day rows (``views`` of dimension ''), both teams, by both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from chalicelib.domain.day_blocks import BLOCK_LENGTHS, HEAVY_BLOCK_VIEWS, Cover, starts_to_build
from chalicelib.domain.sketch import BREAKDOWNS, union

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_KEYS = ("scope_id", "dimension", "team", "value")
# A batch of merged sketches written at once stays under this many bytes of hex.
_WRITE_BATCH_BYTES = 32 << 20
_LOW = "CAST(:low AS date)"
_DAYS = "CAST(:days AS int)"
_HALF = "CAST(:half AS int)"

_DELETE = text("DELETE FROM analytics_breakdown_blocks WHERE days = :days AND first_day >= :low AND first_day < :high")
# The halves of every heavy block of :days days starting in [:low, :high): each half's block where it is
# heavy too (and longer than a day), else its days; rows sorted by value and block.
_HALVES = text(
    f"""
    WITH halves AS (
      SELECT scope_id, {_LOW} + ((day - {_LOW}) / {_HALF}) * {_HALF} AS first_day, sum(views) AS views
      FROM analytics_breakdown_days
      WHERE dimension = '' AND day >= {_LOW} AND day < CAST(:high AS date)
      GROUP BY 1, 2
    ), heavy AS (
      SELECT scope_id, {_LOW} + ((first_day - {_LOW}) / {_DAYS}) * {_DAYS} AS block
      FROM halves GROUP BY 1, 2 HAVING sum(views) >= :heavy
    ), sources AS (
      SELECT k.scope_id, k.block, h.first_day, h.views >= :heavy AND {_HALF} > 1 AS built
      FROM heavy k JOIN halves h
        ON h.scope_id = k.scope_id AND h.first_day >= k.block AND h.first_day < k.block + {_DAYS}
    )
    SELECT b.scope_id, b.dimension, b.team, b.value, s.block, b.sketch
    FROM sources s JOIN analytics_breakdown_blocks b
      ON b.scope_id = s.scope_id AND b.days = {_HALF} AND b.first_day = s.first_day
    WHERE s.built
    UNION ALL
    SELECT d.scope_id, d.dimension, d.team, d.value, s.block, d.sketch
    FROM sources s CROSS JOIN LATERAL (
      SELECT * FROM analytics_breakdown_days d
      WHERE d.scope_id = s.scope_id AND d.day >= s.first_day AND d.day < s.first_day + {_HALF}
        AND d.dimension <> '' AND d.sketch IS NOT NULL
      OFFSET 0  -- a scope's days read by its key: joined, the planner guessed a hash of every scope's days
    ) AS d
    WHERE NOT s.built
    ORDER BY 1, 2, 3, 4, 5
    """
)
_WRITE = text(
    """
    INSERT INTO analytics_breakdown_blocks (scope_id, dimension, team, value, days, first_day, sketch)
    SELECT r.scope_id, r.dimension, r.team, r.value, :days, r.block, decode(r.sketch, 'hex')
    FROM json_to_recordset(CAST(:rows AS json))
      AS r(scope_id int, dimension text, team boolean, value text, block date, sketch text)
    """
)
# A range's sketches: the heavy blocks of its cover, and the days of its light blocks and single days.
_RANGE_SKETCHES = text(
    """
    WITH pieces AS (
      SELECT p.days, p.first_day, (
        SELECT COALESCE(sum(d.views), 0) FROM analytics_breakdown_days d
        WHERE d.scope_id = :scope AND d.dimension = '' AND d.day >= p.first_day AND d.day < p.first_day + p.days
      ) >= :heavy AS heavy
      FROM unnest(CAST(:lengths AS int[]), CAST(:starts AS date[])) AS p(days, first_day)
    )
    SELECT b.value, b.sketch
    FROM pieces p JOIN analytics_breakdown_blocks b
      ON b.scope_id = :scope AND b.dimension = :dimension AND b.days = p.days AND b.first_day = p.first_day
     AND b.team = ANY(CAST(:teams AS boolean[]))
    WHERE p.heavy
    UNION ALL
    SELECT d.value, d.sketch FROM analytics_breakdown_days d
    WHERE d.scope_id = :scope AND d.dimension = :dimension AND d.day >= :first AND d.day <= :last
      AND d.team = ANY(CAST(:teams AS boolean[])) AND d.sketch IS NOT NULL
      AND (d.day = ANY(CAST(:days AS date[])) OR EXISTS (
        SELECT 1 FROM pieces p WHERE NOT p.heavy AND d.day >= p.first_day AND d.day < p.first_day + p.days))
    """
)


def build(connection: Connection, first: date, last: date, whole_until: date) -> int:
    """(Re)build every heavy block holding a day of ``first..last`` whose days are all whole (before
    ``whole_until``), shortest first; return how many block lengths had blocks to build."""
    built = 0
    for length in BLOCK_LENGTHS:
        starts = starts_to_build(first, last, whole_until, length)
        if starts is None:
            break  # a longer block holding these days is not whole either
        low, high = starts
        params = {"days": length, "half": length // 2, "low": low, "high": high, "heavy": HEAVY_BLOCK_VIEWS}
        connection.execute(_DELETE, params)
        for batch in _merged(connection.execute(_HALVES, params)):
            connection.execute(_WRITE, {"days": length, "rows": json.dumps(batch)})
        built += 1
    return built


def _merged(rows: Any) -> Iterator[list[dict[str, object]]]:
    """Each block's halves (rows sorted by value and block) merged, in batches to write."""
    batch: list[dict[str, object]] = []
    size = 0
    for key, halves in groupby(rows, key=lambda row: (*(getattr(row, name) for name in _KEYS), row.block)):
        merged = union((bytes(half.sketch) for half in halves), BREAKDOWNS.bits).encode().hex()
        *values, block = key
        batch.append({**dict(zip(_KEYS, values, strict=True)), "block": block.isoformat(), "sketch": merged})
        size += len(merged)
        if size > _WRITE_BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def range_sketches(
    connection: Connection, scope: int, dimension: str, pieces: Cover, teams: tuple[bool, ...]
) -> list[tuple[str, bytes]]:
    """``(value, sketch)`` of ``pieces`` (to merge per value): each heavy block's, each day's of the rest."""
    spans = [(start, length) for length, start in pieces.blocks] + [(day, 1) for day in pieces.days]
    if not spans:
        return []
    params = {
        "scope": scope,
        "dimension": dimension,
        "teams": list(teams),
        "heavy": HEAVY_BLOCK_VIEWS,
        "first": min(start for start, _ in spans),
        "last": max(start + timedelta(days=length - 1) for start, length in spans),
        "days": [day.isoformat() for day in pieces.days],
        "lengths": [length for length, _ in pieces.blocks],
        "starts": [start.isoformat() for _, start in pieces.blocks],
    }
    return [(str(row.value), bytes(row.sketch)) for row in connection.execute(_RANGE_SKETCHES, params)]
