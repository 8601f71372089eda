"""The registry's measures rolled up: per scope and UTC hour, and per dimension value and UTC day.

Every statement here is built from ``chalicelib.domain.metrics`` when first used with the
registry of that moment (cached per registry), so a measure or dimension declared there is
folded, summed, merged with the raw tail and counted without an edit here:

* :func:`refresh_progress` recomputes the measures of older hours and days late heartbeats changed;
* :func:`fold` recomputes the hours [start, end) and the UTC days they touch from raw views
  (measures by ``Measure.fold``; each value's viewer sketch built by PostgreSQL, as for
  ``analytics_hours``);
* :func:`day_sums`, :func:`raw_sums` sum measures per dimension value over whole UTC days
  (roll-ups) and over raw rows (ragged ends of local days, the tail after the watermark);
* :func:`span_sums`, :func:`raw_hour_sums` give a scope's measures per report point and per raw hour.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from chalicelib.domain import metrics
from chalicelib.domain.sketch import BREAKDOWNS, HASH_SQL, VIEWER_KEY_SQL, Sketch, sketches_sql, union
from chalicelib.repositories.analytics import breakdown_blocks
from chalicelib.repositories.analytics.figures import COUNTED_VIEWS, span_params

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import TextClause

ALL = ""  # the dimension (and value) of a scope's views as a whole
_DAY = timedelta(days=1)
_INSTANT = timedelta(microseconds=1)
_VIEWER = VIEWER_KEY_SQL.format(p="vw.")
_TEAMS = "vw.is_team = ANY(CAST(:teams AS boolean[]))"
_PERIODS = {"hour": "date_trunc('hour', vw.created_at, 'UTC')", "day": "CAST(vw.created_at AT TIME ZONE 'UTC' AS date)"}
# A scope's raw views in :start..:end; the library's are every video's.
_SCOPE = "(:scope = 0 OR vw.video_id = :scope)"
_RAW_IN_RANGE = f"FROM {COUNTED_VIEWS} vw WHERE vw.created_at >= :start AND vw.created_at < :end"


def _columns() -> list[str]:
    return [measure.column for measure in metrics.MEASURES]


def _valued(dimensions: Sequence[metrics.Dimension]) -> str:
    """Each view's value of every dimension, as columns ``d0, d1, ...`` ('' when not known)."""
    return ", ".join(
        f"COALESCE(CAST({item.expression} AS text), '{metrics.UNKNOWN_VALUE}') AS d{position}"
        for position, item in enumerate(dimensions)
    )


def _pairs(dimensions: Sequence[metrics.Dimension], with_all: bool) -> str:
    """``(VALUES ('', ''), ('country', v.d0), ...) AS d(dimension, value)`` over rows aliased ``v``."""
    rows = [f"('{ALL}', '{ALL}')"] if with_all else []
    rows += [f"('{item.name}', v.d{position})" for position, item in enumerate(dimensions)]
    return f"LATERAL (VALUES {', '.join(rows)}) AS d(dimension, value)"


def _folded(alias: str = "vw", names: tuple[str, ...] = ()) -> str:
    """Each measure's aggregate over raw views (only those named in ``names``, when given)."""
    chosen = [measure for measure in metrics.MEASURES if not names or measure.column in names]
    return ", ".join(f"{measure.fold.replace('vw.', f'{alias}.')} AS {measure.column}" for measure in chosen)


def _assigned(source: str) -> str:
    return ", ".join(f"{name} = {source}.{name}" for name in _columns())


def _changed(target: str, source: str) -> str:
    columns = _columns()
    return (
        f"({', '.join(f'{target}.{name}' for name in columns)}) IS DISTINCT FROM "
        f"({', '.join(f'{source}.{name}' for name in columns)})"
    )


def _summed(alias: str = "", names: tuple[str, ...] = ()) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"COALESCE(sum({prefix}{name}), 0) AS {name}" for name in names or _columns())


def _registers(dimensions: Sequence[metrics.Dimension], *, by_day: bool = True) -> str:
    """Each value's viewer registers among the raw views of :start..:end, per UTC day unless ``by_day`` is
    false (``scope_id, dimension[, day], team, value, register, rank``)."""
    day = _PERIODS["day"]
    hashed = HASH_SQL.format(key=_VIEWER.replace("vw.", "x."))
    period, day_column = ("v.period, ", "v.period AS day, ") if by_day else ("", "")
    return f"""
      WITH v AS (
        SELECT w.*, {day.replace("vw.", "w.")} AS period, {BREAKDOWNS.register_sql.format(hash="w.h")} AS register,
               {BREAKDOWNS.value_sql.format(hash="w.h")} AS rank
        FROM (SELECT x.*, {hashed} AS h FROM ({_valued_rows(dimensions)}) AS x) AS w
      )
      SELECT COALESCE(v.video_id, 0) AS scope_id, d.dimension, {day_column}v.is_team AS team,
             d.value, v.register, max(v.rank) AS rank
      FROM v CROSS JOIN {_pairs(dimensions, with_all=False)}
      GROUP BY GROUPING SETS ((v.video_id, d.dimension, {period}v.is_team, d.value, v.register),
                              (d.dimension, {period}v.is_team, d.value, v.register))
    """


def _sketches_joined(dimensions: Sequence[metrics.Dimension]) -> str:
    """Each value's day sketch beside its measures (the scope's views as a whole have none: ``uniqueViewers``
    of a scope come from ``analytics_hours``)."""
    if not dimensions:
        return ""
    built = sketches_sql(_registers(dimensions), "scope_id, dimension, day, team, value", BREAKDOWNS)
    return f"LEFT JOIN ({built}) AS s USING (scope_id, dimension, day, team, value)"


def _valued_rows(dimensions: Sequence[metrics.Dimension]) -> str:
    """The counted raw views of :start..:end with each dimension's value (``d0, d1, ...``)."""
    return f"SELECT vw.*, {_valued(dimensions)} {_RAW_IN_RANGE}" if dimensions else f"SELECT vw.* {_RAW_IN_RANGE}"


def _new_sketches(dimensions: Sequence[metrics.Dimension], table: str, condition: str) -> TextClause:
    """Each value's sketch of the raw views of :start..:end beside its stored one in ``table`` (as ``total``)."""
    if not dimensions:
        return text("SELECT 0 WHERE false")
    return text(
        f"""
        SELECT s.scope_id, s.dimension, s.team, s.value, s.sketch, t.sketch AS total
        FROM ({sketches_sql(_registers(dimensions, by_day=False), "scope_id, dimension, team, value", BREAKDOWNS)}) AS s
        LEFT JOIN {table} t
          ON t.scope_id = s.scope_id AND t.dimension = s.dimension AND t.team = s.team AND t.value = s.value {condition}
        """
    )


@cache
def _statements(registry: tuple[tuple[metrics.Measure, ...], tuple[metrics.Dimension, ...]]) -> dict[str, TextClause]:
    """Every statement for this registry (``metrics.MEASURES``, ``metrics.DIMENSIONS``)."""
    _, dimensions = registry
    columns = ", ".join(_columns())
    hour = _PERIODS["hour"]
    day = _PERIODS["day"]
    valued = _valued_rows(dimensions)
    hour_measures = f"""
      SELECT COALESCE(vw.video_id, 0) AS scope_id, {hour} AS hour, vw.is_team AS team, {_folded()}
      {_RAW_IN_RANGE}
      GROUP BY GROUPING SETS ((vw.video_id, {hour}, vw.is_team), ({hour}, vw.is_team))
    """
    day_measures = f"""
      SELECT COALESCE(v.video_id, 0) AS scope_id, d.dimension, v.period AS day, v.is_team AS team, d.value,
             {_folded("v")}
      FROM (SELECT w.*, {day.replace("vw.", "w.")} AS period FROM ({valued}) AS w) AS v
      CROSS JOIN {_pairs(dimensions, with_all=True)}
      GROUP BY GROUPING SETS ((v.video_id, d.dimension, v.period, v.is_team, d.value),
                              (d.dimension, v.period, v.is_team, d.value))
    """
    return {
        "delete_hours": text("DELETE FROM analytics_measure_hours WHERE hour >= :start AND hour < :end"),
        "fold_hours": text(f"INSERT INTO analytics_measure_hours (scope_id, hour, team, {columns}) {hour_measures}"),
        "progress_hours": text(
            f"""
            UPDATE analytics_measure_hours h SET {_assigned("m")}
            FROM ({hour_measures}) AS m
            WHERE h.scope_id = m.scope_id AND h.hour = m.hour AND h.team = m.team AND {_changed("h", "m")}
            """
        ),
        "delete_days": text("DELETE FROM analytics_breakdown_days WHERE day >= :first AND day <= :last"),
        "fold_days": text(
            f"""
            INSERT INTO analytics_breakdown_days (scope_id, dimension, day, team, value, {columns}, sketch)
            SELECT m.*, {"s.sketch" if dimensions else "NULL"}
            FROM ({day_measures}) AS m
            {_sketches_joined(dimensions)}
            """
        ),
        "progress_days": text(
            f"""
            UPDATE analytics_breakdown_days b SET {_assigned("m")}
            FROM ({day_measures}) AS m
            WHERE b.scope_id = m.scope_id AND b.dimension = m.dimension AND b.day = m.day AND b.team = m.team
              AND b.value = m.value AND b.day >= :first AND b.day <= :last AND {_changed("b", "m")}
            """
        ),
        "upsert_day_measures": text(
            f"""
            INSERT INTO analytics_breakdown_days AS b (scope_id, dimension, day, team, value, {columns})
            SELECT m.* FROM ({day_measures}) AS m
            ON CONFLICT (scope_id, dimension, day, team, value) DO UPDATE SET {_assigned("EXCLUDED")}
            WHERE {_changed("b", "EXCLUDED")}
            """
        ),
        "new_sketches": _new_sketches(dimensions, "analytics_breakdown_totals", ""),
        "new_day_sketches": _new_sketches(dimensions, "analytics_breakdown_days", "AND t.day = :day"),
        "day_points": text(
            f"""
            SELECT day, {_summed()} FROM analytics_breakdown_days
            WHERE scope_id = :scope AND dimension = '{ALL}' AND day >= :first AND day <= :last
              AND team = ANY(CAST(:teams AS boolean[]))
            GROUP BY day
            """
        ),
        # Each hour finds its span by a binary search of the spans' starts (in order): one pass over
        # the range's hours, where a join would compare every hour with every span.
        "span_sums": text(
            f"""
            SELECT s.position, {_summed("h")}
            FROM analytics_measure_hours h
            CROSS JOIN LATERAL (SELECT width_bucket(h.hour, CAST(:starts AS timestamptz[])) AS position) AS s
            WHERE h.scope_id = :scope AND h.hour >= :start AND h.hour < :end
              AND h.team = ANY(CAST(:teams AS boolean[]))
              AND s.position > 0 AND h.hour < (CAST(:ends AS timestamptz[]))[s.position]
            GROUP BY s.position
            """
        ),
        "raw_hour_sums": text(
            f"""
            SELECT {hour} AS hour, {_folded()} {_RAW_IN_RANGE} AND {_TEAMS} AND {_SCOPE}
            GROUP BY 1
            """
        ),
    }


@cache
def _day_sums(names: tuple[str, ...]) -> TextClause:
    """Each value's sums of the measures ``names`` over folded UTC days."""
    return text(
        f"""
        SELECT value, {_summed(names=names)} FROM analytics_breakdown_days
        WHERE scope_id = :scope AND dimension = :dimension AND day >= :first AND day <= :last
          AND team = ANY(CAST(:teams AS boolean[]))
        GROUP BY value
        """
    )


def _statement(name: str) -> TextClause:
    return _statements((metrics.MEASURES, metrics.DIMENSIONS))[name]


@cache
def _raw_statements(
    registry: tuple[tuple[metrics.Measure, ...], tuple[metrics.Dimension, ...]],
    dimension: str,
    names: tuple[str, ...] = (),
) -> dict[str, TextClause]:
    """The raw-row statements of one dimension (``ALL``: the scope's views as a whole): only its value is
    computed per view (a referrer host is a regular expression over every raw row of a ragged end), and
    only the measures named in ``names``, when given."""
    _, dimensions = registry
    chosen = tuple(item for item in dimensions if item.name == dimension)
    if dimension != ALL and not chosen:
        raise ValueError(f"unknown dimension {dimension!r}")
    value = "v.d0" if chosen else f"'{ALL}'"
    views = f"({_valued_rows(chosen)} AND {_TEAMS} AND {_SCOPE}) AS v"
    return {
        "raw_sums": text(f"SELECT {value} AS value, {_folded('v', names)} FROM {views} GROUP BY 1"),
        "raw_viewers": text(
            f"SELECT {value} AS value, {_VIEWER.replace('vw.', 'v.')} AS viewer FROM {views} GROUP BY 1, 2"
        ),
    }


def _raw_statement(name: str, dimension: str, names: tuple[str, ...] = ()) -> TextClause:
    return _raw_statements((metrics.MEASURES, metrics.DIMENSIONS), dimension, names)[name]


def utc_midnight(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def fold(
    connection: Connection,
    start: datetime,
    end: datetime,
    folded_until: datetime | None = None,
    *,
    day_so_far_folded: bool = False,
) -> None:
    """Recompute the hours [start, end) (``start`` on the hour) and the UTC days holding them
    (:func:`fold_period`), then the blocks of days they complete and each value's all-time sketch.

    The blocks of days holding the days written are built again where all their days are whole.
    """
    first, last = fold_period(connection, start, end, folded_until, day_so_far_folded=day_so_far_folded)
    breakdown_blocks.build(connection, first, last, utc_midnight(folded_until or end).date())
    _merge_totals(connection, start, end)


def fold_period(
    connection: Connection,
    start: datetime,
    end: datetime,
    folded_until: datetime | None = None,
    *,
    day_so_far_folded: bool = False,
) -> tuple[date, date]:
    """Recompute the hours [start, end) and the UTC days holding them; return the first and last day written.

    A day holds its raw views up to ``folded_until`` (the watermark once this step is done; ``end`` when
    not given), so a day is always whole up to the watermark, whichever hours of it are refolded. Each
    value's day sketch is built by PostgreSQL.

    ``day_so_far_folded`` (a steady refresh: its day's views before ``start`` are in the day rows):
    ``start``'s day keeps its sketches and merges only the viewers of [start, end) into them, so a
    refresh each minute does not hash and rebuild the whole day's viewers again; its measures are
    still recomputed over the day (late heartbeats change them). Without it (a backlog, an erasure's
    refold), every day is rebuilt from raw views, which also forgets erased viewers.
    """
    connection.execute(_statement("delete_hours"), {"start": start, "end": end})
    connection.execute(_statement("fold_hours"), {"start": start, "end": end})
    first = utc_midnight(start)
    days_end = min(utc_midnight(end - _INSTANT) + _DAY, folded_until or end)
    if day_so_far_folded and first < start:
        _fold_into_day(connection, first, start, min(end, first + _DAY), min(days_end, first + _DAY))
        first += _DAY
    if first < days_end:
        last = (days_end - _INSTANT).astimezone(UTC).date()
        days = {"first": first.date(), "last": last, "start": first, "end": days_end}
        connection.execute(_statement("delete_days"), days)
        connection.execute(_statement("fold_days"), days)
    return utc_midnight(start).date(), (days_end - _INSTANT).astimezone(UTC).date()


def merge_into_totals(connection: Connection, first: date, last: date, lock: Callable[[], None]) -> None:
    """Merge each value's day sketches of the UTC days [first, last] into its all-time sketch, for folds running
    side by side: the days' sketches are merged here first, then ``lock()`` is taken (held to the end of the
    transaction) before the stored sketches are read, merged and written, so no merge is lost to another.
    (A week's days: a union of sketches already built costs half of hashing the week's views again.)"""
    rows = connection.execute(_DAYS_OF_VALUES, {"first": first, "last": last})
    built = [
        ({name: value for name, value in zip(_TOTAL_KEYS, key, strict=True)}, union(_blobs(group), BREAKDOWNS.bits))
        for key, group in groupby(rows, key=lambda row: tuple(getattr(row, name) for name in _TOTAL_KEYS))
    ]
    if not built:
        return
    lock()
    keys = [key for key, _ in built]
    stored = {
        tuple(getattr(row, name) for name in _TOTAL_KEYS): bytes(row.sketch)
        for row in connection.execute(_STORED_TOTALS, {"keys": json.dumps(keys)})
    }
    changed = []
    for key, sketch in built:
        before = stored.get(tuple(key.values()))
        sketch.merge_blob(before)
        merged = sketch.encode()
        if merged != before:
            changed.append({**key, "sketch": merged.hex()})
    if changed:
        connection.execute(_WRITE_TOTALS, {"rows": json.dumps(changed)})


def _blobs(rows: Iterable[Any]) -> Iterator[bytes]:
    return (bytes(row.sketch) for row in rows)


def _fold_into_day(connection: Connection, day: datetime, start: datetime, end: datetime, day_end: datetime) -> None:
    """The day ``day`` (UTC midnight): measures over its raw views up to ``day_end``, the viewers of [start, end)
    merged into its sketches."""
    measured = {"first": day.date(), "last": day.date(), "start": day, "end": day_end}
    connection.execute(_statement("upsert_day_measures"), measured)
    new_rows: dict[str, object] = {"start": start, "end": end, "day": day.date()}
    _merge_sketches(connection, "new_day_sketches", _WRITE_DAY_SKETCHES, new_rows)


def refresh_progress(connection: Connection, start: datetime, end: datetime) -> None:
    """Bring the measures of the hours [start, end) and of the whole UTC days before ``end``'s up to date.

    Late heartbeats change a view's watch time, completion and QoE, never its viewer or its values:
    measures are recomputed and only rows that changed are written; sketches and all-time sketches
    stay as they are. The day holding ``end`` is left to :func:`fold` of the hours after it.
    """
    if end <= start:
        return
    connection.execute(_statement("progress_hours"), {"start": start, "end": end})
    first, days_end = utc_midnight(start), utc_midnight(end)
    if days_end > first:
        last = (days_end - _DAY).date()
        connection.execute(
            _statement("progress_days"), {"first": first.date(), "last": last, "start": first, "end": days_end}
        )


# The sketches travel as one JSON document (hex): the driver would escape a text array character by character.
_WRITE_TOTALS = text(
    """
    INSERT INTO analytics_breakdown_totals (scope_id, dimension, team, value, sketch)
    SELECT r.scope_id, r.dimension, r.team, r.value, decode(r.sketch, 'hex')
    FROM json_to_recordset(CAST(:rows AS json))
      AS r(scope_id int, dimension text, team boolean, value text, sketch text)
    ON CONFLICT (scope_id, dimension, team, value) DO UPDATE SET sketch = EXCLUDED.sketch
    """
)
_TOTAL_KEYS = ("scope_id", "dimension", "team", "value")
_DAYS_OF_VALUES = text(
    """
    SELECT scope_id, dimension, team, value, sketch FROM analytics_breakdown_days
    WHERE day >= :first AND day <= :last AND dimension <> '' AND sketch IS NOT NULL
    ORDER BY scope_id, dimension, team, value
    """
)
_STORED_TOTALS = text(
    """
    SELECT t.scope_id, t.dimension, t.team, t.value, t.sketch
    FROM analytics_breakdown_totals t
    JOIN json_to_recordset(CAST(:keys AS json)) AS k(scope_id int, dimension text, team boolean, value text)
      ON t.scope_id = k.scope_id AND t.dimension = k.dimension AND t.team = k.team AND t.value = k.value
    """
)
_TOTAL_SKETCHES = text(
    """
    SELECT value, sketch FROM analytics_breakdown_totals
    WHERE scope_id = :scope AND dimension = :dimension AND team = ANY(CAST(:teams AS boolean[]))
    """
)


_WRITE_DAY_SKETCHES = text(
    """
    UPDATE analytics_breakdown_days b SET sketch = decode(r.sketch, 'hex')
    FROM json_to_recordset(CAST(:rows AS json))
      AS r(scope_id int, dimension text, team boolean, value text, sketch text)
    WHERE b.scope_id = r.scope_id AND b.dimension = r.dimension AND b.day = CAST(:day AS date) AND b.team = r.team
      AND b.value = r.value
    """
)


def _merge_totals(connection: Connection, start: datetime, end: datetime) -> None:
    """Merge the viewers of the raw views of [start, end) into each value's all-time sketch."""
    _merge_sketches(connection, "new_sketches", _WRITE_TOTALS, {"start": start, "end": end})


def _merge_sketches(connection: Connection, statement: str, write: TextClause, params: dict[str, object]) -> None:
    """Each value's sketch of the raw views of :start..:end (built by PostgreSQL) merged here into its stored
    one; a sketch they leave as it was is not written again."""
    rows = []
    for row in connection.execute(_statement(statement), params):
        before = bytes(row.total) if row.total is not None else None
        sketch = Sketch.decode(before, BREAKDOWNS.bits)
        sketch.merge_blob(row.sketch)
        merged = sketch.encode()
        if merged != before:
            keys = {"scope_id": row.scope_id, "dimension": row.dimension, "team": row.team, "value": row.value}
            rows.append({**keys, "sketch": merged.hex()})
    if not rows:
        return
    connection.execute(write, {**params, "rows": json.dumps(rows)})


def total_sketches(
    connection: Connection, scope: int, dimension: str, teams: tuple[bool, ...]
) -> list[tuple[str, bytes]]:
    """``(value, sketch)`` of all the viewers folded so far, per team flag asked for."""
    params = {"scope": scope, "dimension": dimension, "teams": list(teams)}
    return [(str(row.value), bytes(row.sketch)) for row in connection.execute(_TOTAL_SKETCHES, params)]


@cache
def _forget(columns: tuple[str, ...]) -> tuple[TextClause, ...]:
    subtract = ", ".join(f"{name} = greatest(lib.{name} - v.{name}, 0)" for name in columns)
    return (
        text(
            f"""UPDATE analytics_measure_hours lib SET {subtract} FROM analytics_measure_hours v
                WHERE v.scope_id = :video_id AND lib.scope_id = 0 AND lib.hour = v.hour AND lib.team = v.team"""
        ),
        text(
            f"""UPDATE analytics_breakdown_days lib SET {subtract} FROM analytics_breakdown_days v
                WHERE v.scope_id = :video_id AND lib.scope_id = 0 AND lib.dimension = v.dimension AND lib.day = v.day
                  AND lib.team = v.team AND lib.value = v.value"""
        ),
        text("DELETE FROM analytics_measure_hours WHERE scope_id = :video_id"),
        text("DELETE FROM analytics_breakdown_days WHERE scope_id = :video_id"),
        text("DELETE FROM analytics_breakdown_totals WHERE scope_id = :video_id"),
        text("DELETE FROM analytics_breakdown_blocks WHERE scope_id = :video_id"),
    )


def forget_video(connection: Connection, video_id: int) -> None:
    """Remove a video's roll-ups and its measures from the library's (its sketches' viewers stay, as elsewhere)."""
    for statement in _forget(tuple(_columns())):
        connection.execute(statement, {"video_id": video_id})


def _sums_of(row: object, names: tuple[str, ...] = ()) -> dict[str, int]:
    mapping = row._mapping  # type: ignore[attr-defined]
    return {name: int(mapping[name] or 0) for name in names or _columns()}


def day_sums(
    connection: Connection,
    scope: int,
    dimension: str,
    first: date,
    last: date,
    teams: tuple[bool, ...],
    names: tuple[str, ...] = (),
) -> dict[str, dict[str, int]]:
    """Each value's measures over the folded UTC days [first, last] (only those in ``names``, when given:
    summing one column of a month of values takes half the time of summing all of them)."""
    statement = _day_sums(names or tuple(_columns()))
    params = {"scope": scope, "dimension": dimension, "first": first, "last": last, "teams": list(teams)}
    return {str(row.value): _sums_of(row, names) for row in connection.execute(statement, params)}


def day_points(
    connection: Connection, scope: int, first: date, last: date, teams: tuple[bool, ...]
) -> dict[date, dict[str, int]]:
    """A scope's measures per folded UTC day in [first, last]."""
    statement = _statement("day_points")
    params = {"scope": scope, "first": first, "last": last, "teams": list(teams)}
    return {row.day: _sums_of(row) for row in connection.execute(statement, params)}


def span_sums(
    connection: Connection, scope: int, spans: Sequence[tuple[datetime, datetime]], teams: tuple[bool, ...]
) -> dict[int, dict[str, int]]:
    """A scope's measures summed over the folded hours of each span of whole hours (0-based position), in
    SQL: a month of local days is 31 rows, not 744 hours of every measure. ``spans`` in order, none overlapping."""
    if not spans:
        return {}
    # The whole range spelled out too: the planner cannot derive it from the spans' arrays.
    bounds = {"start": min(start for start, _ in spans), "end": max(end for _, end in spans)}
    params = {"scope": scope, "teams": list(teams), **bounds, **span_params(spans)}
    return {int(row.position) - 1: _sums_of(row) for row in connection.execute(_statement("span_sums"), params)}


def raw_hour_sums(
    connection: Connection, scope: int, start: datetime, end: datetime, teams: tuple[bool, ...]
) -> list[tuple[datetime, dict[str, int]]]:
    """A scope's measures per UTC hour over raw views of [start, end) (the tail)."""
    params = {"scope": scope, "start": start, "end": end, "teams": list(teams)}
    return [(row.hour, _sums_of(row)) for row in connection.execute(_statement("raw_hour_sums"), params)]


def raw_sums(
    connection: Connection,
    scope: int,
    dimension: str,
    start: datetime,
    end: datetime,
    teams: tuple[bool, ...],
    names: tuple[str, ...] = (),
) -> dict[str, dict[str, int]]:
    """Each value's measures over raw views of [start, end) (only those in ``names``, when given)."""
    params = {"scope": scope, "start": start, "end": end, "teams": list(teams)}
    statement = _raw_statement("raw_sums", dimension, names)
    return {str(row.value): _sums_of(row, names) for row in connection.execute(statement, params)}


def raw_viewers(
    connection: Connection, scope: int, dimension: str, start: datetime, end: datetime, teams: tuple[bool, ...]
) -> dict[str, set[str]]:
    """Each value's viewer keys among raw views of [start, end) (exact counts, or added to sketches)."""
    params = {"scope": scope, "start": start, "end": end, "teams": list(teams)}
    found: dict[str, set[str]] = defaultdict(set)
    for row in connection.execute(_raw_statement("raw_viewers", dimension), params):
        found[str(row.value)].add(str(row.viewer))
    return dict(found)
