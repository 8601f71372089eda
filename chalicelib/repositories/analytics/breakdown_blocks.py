"""Each breakdown value's viewer sketch per aligned block of 2 to 256 UTC days (``chalicelib.domain.day_blocks``).

A block's sketch is the merge of its two halves' (a block half as long, or a day), so building one
costs a merge per value whatever its length, and a value found in one half only is copied by
PostgreSQL without crossing to Python. The fold builds the blocks holding the days it writes once
they are whole (:func:`build`), in its own transaction, so a report never merges a block older than
its days; reports read a range's blocks and single days in one statement (:func:`range_sketches`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from chalicelib.domain.day_blocks import BLOCK_LENGTHS, Cover, starts_to_build
from chalicelib.domain.sketch import BREAKDOWNS, Sketch

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import TextClause

_KEYS = ("scope_id", "dimension", "team", "value")
# A batch of merged sketches written at once stays under this many bytes of hex.
_WRITE_BATCH_BYTES = 32 << 20

_DAY_HALVES = """
    SELECT scope_id, dimension, team, value, day AS first_day, sketch FROM analytics_breakdown_days
    WHERE day >= :low AND day < CAST(:high AS date) AND dimension <> '' AND sketch IS NOT NULL
"""
_BLOCK_HALVES = """
    SELECT scope_id, dimension, team, value, first_day, sketch FROM analytics_breakdown_blocks
    WHERE days = :half AND first_day >= :low AND first_day < CAST(:high AS date)
"""


def _halves(source: str) -> str:
    """The halves of the blocks of ``:days`` days starting in [:low, :high), each with its block's first day
    (``block``) and how many halves that block has for the same value (``pieces``)."""
    block = "CAST(:low AS date) + ((h.first_day - CAST(:low AS date)) / CAST(:days AS int)) * CAST(:days AS int)"
    return f"""
      WITH c AS (
        SELECT h.*, {block} AS block,
               count(*) OVER (PARTITION BY h.scope_id, h.dimension, h.team, h.value, {block}) AS pieces
        FROM ({source}) AS h
      )
    """


def _statements(source: str) -> dict[str, TextClause]:
    keys = ", ".join(_KEYS)
    return {
        "copy": text(
            f"""{_halves(source)}
            INSERT INTO analytics_breakdown_blocks ({keys}, days, first_day, sketch)
            SELECT {keys}, :days, block, sketch FROM c WHERE pieces = 1
            """
        ),
        "to_merge": text(
            f"{_halves(source)} SELECT {keys}, block, sketch FROM c WHERE pieces > 1 ORDER BY {keys}, block"
        ),
    }


_FROM_DAYS = _statements(_DAY_HALVES)
_FROM_BLOCKS = _statements(_BLOCK_HALVES)
_DELETE = text("DELETE FROM analytics_breakdown_blocks WHERE days = :days AND first_day >= :low AND first_day < :high")
_WRITE = text(
    """
    INSERT INTO analytics_breakdown_blocks (scope_id, dimension, team, value, days, first_day, sketch)
    SELECT r.scope_id, r.dimension, r.team, r.value, :days, r.block, decode(r.sketch, 'hex')
    FROM json_to_recordset(CAST(:rows AS json))
      AS r(scope_id int, dimension text, team boolean, value text, block date, sketch text)
    """
)
_RANGE_SKETCHES = text(
    """
    SELECT value, sketch FROM analytics_breakdown_days
    WHERE scope_id = :scope AND dimension = :dimension AND day = ANY(CAST(:days AS date[]))
      AND team = ANY(CAST(:teams AS boolean[])) AND sketch IS NOT NULL
    UNION ALL
    SELECT b.value, b.sketch
    FROM unnest(CAST(:lengths AS int[]), CAST(:starts AS date[])) AS p(days, first_day)
    JOIN analytics_breakdown_blocks b ON b.days = p.days AND b.first_day = p.first_day
    WHERE b.scope_id = :scope AND b.dimension = :dimension AND b.team = ANY(CAST(:teams AS boolean[]))
    """
)


def build(connection: Connection, first: date, last: date, whole_until: date) -> int:
    """(Re)build every block holding a day of ``first..last`` whose days are all whole (before
    ``whole_until``), shortest first, from the days' and shorter blocks' sketches; return how many
    block lengths had blocks to build."""
    built = 0
    for length in BLOCK_LENGTHS:
        starts = starts_to_build(first, last, whole_until, length)
        if starts is None:
            break  # a longer block holding these days is not whole either
        low, high = starts
        params = {"days": length, "half": length // 2, "low": low, "high": high}
        connection.execute(_DELETE, params)
        statements = _FROM_DAYS if length == BLOCK_LENGTHS[0] else _FROM_BLOCKS
        connection.execute(statements["copy"], params)
        for batch in _merged(connection.execute(statements["to_merge"], params)):
            connection.execute(_WRITE, {"days": length, "rows": json.dumps(batch)})
        built += 1
    return built


def _merged(rows: Any) -> Iterator[list[dict[str, object]]]:
    """Each block's halves (rows sorted by value and block) merged, in batches to write."""
    batch: list[dict[str, object]] = []
    size = 0
    for key, halves in groupby(rows, key=lambda row: (*(getattr(row, name) for name in _KEYS), row.block)):
        sketch = Sketch(BREAKDOWNS.bits)
        for half in halves:
            sketch.merge_blob(bytes(half.sketch))
        merged = sketch.encode().hex()
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
    """``(value, sketch)`` of every single day and block of ``pieces`` (to merge per value)."""
    params = {
        "scope": scope,
        "dimension": dimension,
        "teams": list(teams),
        "days": [day.isoformat() for day in pieces.days],
        "lengths": [length for length, _ in pieces.blocks],
        "starts": [start.isoformat() for _, start in pieces.blocks],
    }
    return [(str(row.value), bytes(row.sketch)) for row in connection.execute(_RANGE_SKETCHES, params)]
