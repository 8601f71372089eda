"""Tracking writes: each request is ONE statement that counts the rate limit and writes.

The rate-limit upsert and the write share a statement, hence a transaction: a request
refused with 429 writes nothing, a request answered 2xx is counted and committed. (A
heartbeat that changed nothing within its rate asks why with a second, read-only one.)
Statements run through :mod:`chalicelib.db.fastpath` (prepared, autocommitted).

``team`` is true for callers with an admin token: they may track unpublished videos, and
what they record is marked ``is_team`` (left out of analytics unless asked for).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.db import fastpath
from chalicelib.domain.audience import PROGRESS_HOURS, sample_sql
from chalicelib.domain.qoe import PlayerQoe
from chalicelib.domain.viewers import ViewerContext
from chalicelib.repositories import rate_limits

# A view's watch time can never exceed this many times the video's duration (replays, loops).
DURATION_FACTOR = 3
# ... nor the seconds since the view was created plus this slack (clock skew, buffering).
ELAPSED_SLACK_SECONDS = 30
# Views a heartbeat may still change (see PROGRESS_HOURS); spelled in each statement that reads
# video_views by id, so that PostgreSQL prunes the older monthly partitions.
_PROGRESSING = f"vw.created_at > now() - interval '{PROGRESS_HOURS} hours'"


def _rate_limit_cte(bucket: str) -> str:
    """``rl``: the shared rate-limit upsert, counted in the same statement as the write."""
    bucket_literal = f"'{bucket}'"  # buckets are fixed names from LIMITS, never client input
    return f"rl AS ({rate_limits.upsert_sql(bucket_literal)})"


# The watch time a view may hold: what the client claims, capped by physics.
_CAPPED_WATCH_TIME = f"""LEAST(
    {{claimed}},
    floor(extract(epoch FROM now() - vw.created_at))::int + {ELAPSED_SLACK_SECONDS},
    CASE WHEN v.duration > 0 THEN v.duration * {DURATION_FACTOR} ELSE 2147483647 END
  )::int"""

# What a heartbeat may raise besides watch time: the player's cumulative quality of experience
# (first startup time and error, largest counters; chalicelib/domain/qoe.py) and the view's end.
# ``{src}`` is the alias holding the reported values, ``{capped}`` the new watch time.
_QOE_AND_END = """startup_time_ms = COALESCE(vw.startup_time_ms, {src}.startup_ms),
      rebuffer_count = GREATEST(vw.rebuffer_count, {src}.rebuffers),
      rebuffer_ms = GREATEST(vw.rebuffer_ms, CASE WHEN {src}.rebuffer_ms IS NOT NULL THEN LEAST({src}.rebuffer_ms,
                             (floor(extract(epoch FROM now() - vw.created_at)) + {slack}) * 1000) END),
      error_code = COALESCE(vw.error_code, {src}.error_code),
      bitrate_kbps = GREATEST(vw.bitrate_kbps, {src}.bitrate),
      height = GREATEST(vw.height, {src}.height),
      qoe_at = CASE WHEN {src}.qoe THEN COALESCE(vw.qoe_at, now()) ELSE vw.qoe_at END,
      -- Ended stays ended, unless watch time grows again (the viewer replays); a late heartbeat
      -- sent before the end carries less watch time and does not bring the view back to life.
      ended_at = CASE WHEN {src}.ended THEN COALESCE(vw.ended_at, now())
                      WHEN {capped} > vw.watch_time_seconds THEN NULL ELSE vw.ended_at END"""
# A heartbeat's QoE figures arrive as one array (NULL without a report): pg8000 spends Python on each
# bind parameter, and heartbeats are most of the traffic (docs/benchmark.md).
_REPORTED = """SELECT CAST(q[1] AS int) AS startup_ms, CAST(q[2] AS int) AS rebuffers, q[3] AS rebuffer_ms,
         CAST(:error_code AS text) AS error_code, CAST(q[4] AS int) AS bitrate, CAST(q[5] AS int) AS height,
         q IS NOT NULL AS qoe, CAST(:ended AS boolean) AS ended
  FROM (SELECT CAST(:qoe_figures AS bigint[]) AS q) AS figures"""

# The video a write is for, locked against deletion until the write commits (FOR KEY SHARE, the
# lock the foreign key check takes anyway): a DELETE /api/videos/{id} running at the same moment
# either commits first, and the write finds no video (404), or waits for the write and removes
# it with the video. Without it the check fails instead (SQLSTATE 23503, a 500).
_LOCKED_VIDEO = "FOR KEY SHARE"

VIEW_SQL = f"""
WITH {_rate_limit_cte("track-view")},
target AS (
  SELECT id FROM videos WHERE id = :video_id AND (is_published OR CAST(:team AS boolean)) {_LOCKED_VIDEO}
),
viewer AS (
  SELECT u.id FROM users u WHERE u.id = CAST(:user_id AS int)
),
ins AS (
  INSERT INTO video_views (video_id, user_id, consented, ip_address, referer, is_team, device_type, browser, os,
                           country, source)
  SELECT target.id, (SELECT id FROM viewer), EXISTS (SELECT 1 FROM viewer),
         CAST(:ip_hash AS varchar(64)), CAST(:referer AS text), CAST(:team AS boolean),
         CAST(:device_type AS text), CAST(:browser AS text), CAST(:os AS text), CAST(:country AS varchar(2)),
         CAST(:source AS text)
  FROM target, rl WHERE rl.hits <= CAST(:limit AS int)
  RETURNING id, tableoid::regclass::text AS partition
)
SELECT rl.hits, rl.retry_after, EXISTS (SELECT 1 FROM target), (SELECT id FROM ins), (SELECT partition FROM ins)
FROM rl
"""


def _event_sql(views: str) -> str:
    """The event statement, reading and updating the view in ``views`` (the table, or its month's partition)."""
    return f"""
WITH {_rate_limit_cte("track-event")},
target AS (
  SELECT id, duration FROM videos
  WHERE id = :video_id AND (is_published OR CAST(:team AS boolean)) {_LOCKED_VIDEO}
),
own_view AS (
  SELECT id FROM {views} WHERE id = CAST(:view_id AS int) AND video_id = :video_id
),
ins AS (
  INSERT INTO video_events (video_id, view_id, event_type, timestamp, is_team)
  SELECT t.id, CAST(:view_id AS int), CAST(:event_type AS varchar(50)), CAST(:ts AS numeric), CAST(:team AS boolean)
  FROM target t, rl
  WHERE rl.hits <= CAST(:limit AS int)
    AND CAST(:ts AS numeric) <= t.duration + 1
    AND (CAST(:view_id AS int) IS NULL OR EXISTS (SELECT 1 FROM own_view))
  RETURNING id
),
touch AS (
  -- The event is a position sample of its view (audience retention, live viewers); complete ends it.
  UPDATE {views} vw
  SET completed = vw.completed OR CAST(:event_type AS text) = 'complete',
      ended_at = CASE WHEN CAST(:event_type AS text) = 'complete' THEN COALESCE(vw.ended_at, now())
                      ELSE vw.ended_at END,
      {sample_sql("vw", "CAST(:ts AS numeric)", "t.duration")}
  FROM target t
  -- The 48-hour rule of heartbeats: an older view keeps its completion and samples (the event is stored).
  WHERE vw.id = (SELECT id FROM own_view) AND EXISTS (SELECT 1 FROM ins) AND {_PROGRESSING}
  RETURNING vw.id
)
SELECT rl.hits, rl.retry_after, (SELECT duration FROM target), EXISTS (SELECT 1 FROM own_view),
       (SELECT id FROM ins), (SELECT count(*) FROM touch)
FROM rl
"""


def _heartbeat_sql(views: str) -> str:
    """The heartbeat statement over ``views``: the partitioned table, or the view's own month's partition,
    which spares PostgreSQL opening and locking every month's partition for a generic plan.

    It is the rate-limit upsert and one UPDATE (the view and its video read once, by their keys), and
    nothing else: every node of a plan is set up on each run, run or not, so the reasons a heartbeat
    may change nothing are asked by a second statement (:func:`_unchanged_view_sql`) only then.
    """
    capped = _CAPPED_WATCH_TIME.format(claimed="CAST(:watch_time AS int)")
    position = "CAST(:position AS numeric)"
    return f"""
WITH {_rate_limit_cte("track-heartbeat")},
upd AS (
  -- GREATEST keeps the maximum: watch time never goes down, whatever order heartbeats land in.
  UPDATE {views} vw
  SET watch_time_seconds = GREATEST(vw.watch_time_seconds, {capped}),
      {sample_sql("vw", position, "v.duration")},
      {_QOE_AND_END.format(src="r", capped=capped, slack=ELAPSED_SLACK_SECONDS)}
  FROM videos v, rl, ({_REPORTED}) AS r
  WHERE vw.id = :view_id AND {_PROGRESSING} AND v.id = vw.video_id AND rl.hits <= CAST(:limit AS int)
    AND {_position_ok(position)}
  RETURNING vw.watch_time_seconds, v.duration
)
SELECT rl.hits, rl.retry_after, upd.watch_time_seconds, upd.duration FROM rl LEFT JOIN upd ON true
"""


def _position_ok(position: str) -> str:
    return f"({position} IS NULL OR {position} <= v.duration + 1)"


def _unchanged_view_sql(views: str) -> str:
    """Why a heartbeat within its rate changed nothing: no such view (no row), a view older than the
    hours a heartbeat may change (found, left as it is: 200), or a position past the video's end."""
    return f"""
SELECT vw.watch_time_seconds, NOT {_PROGRESSING} OR {_position_ok("CAST(:position AS numeric)")}, v.duration
FROM {views} vw JOIN videos v ON v.id = vw.video_id WHERE vw.id = :view_id
"""


VIEWS = "video_views"


def _item_budget_cte(name: str, bucket: str, items: str, limit: str) -> str:
    """``<name>``: how many of the batch's ``items`` the per-IP limit of ``bucket`` still allows (the
    single route's budget, each item counted as one request; nothing counted when the batch is refused)."""
    counted = rate_limits.upsert_sql(
        f"'{bucket}'",
        hits="items.n",
        source=f"FROM (SELECT count(*) AS n FROM {items}) AS items, rl WHERE items.n > 0 AND rl.hits <= "
        "CAST(:limit AS int)",
    )
    return f"""{name}_counted AS ({counted}),
{name} AS (
  SELECT GREATEST(0, CAST({limit} AS int) - (COALESCE((SELECT hits FROM {name}_counted), 0)
                                            - (SELECT count(*) FROM {items}))) AS allowed
)"""


# Why the database refused a batch item: short codes, which the service turns into answers.
BATCH_SQL = f"""
WITH {_rate_limit_cte("track-batch")},
ev AS (
  SELECT e.*, row_number() OVER (ORDER BY e.idx) AS nth
  FROM unnest(CAST(:ev_idx AS int[]), CAST(:ev_video AS int[]), CAST(:ev_view AS int[]),
              CAST(:ev_type AS text[]), CAST(:ev_ts AS numeric[]))
    AS e(idx, video_id, view_id, event_type, ts)
),
{_item_budget_cte("ev_budget", "track-event", "ev", ":event_limit")},
ev_videos AS (
  SELECT id, duration FROM videos
  WHERE id IN (SELECT video_id FROM ev) AND (is_published OR CAST(:team AS boolean)) {_LOCKED_VIDEO}
),
ev_chk AS (
  SELECT e.*, CASE
      WHEN e.nth > (SELECT allowed FROM ev_budget) THEN 'rate_limited'
      WHEN v.id IS NULL THEN 'video_not_found'
      WHEN e.ts > v.duration + 1 THEN 'timestamp_beyond_end'
      WHEN e.view_id IS NOT NULL AND vw.id IS NULL THEN 'view_not_found'
    END AS error
  FROM ev e
  LEFT JOIN ev_videos v ON v.id = e.video_id
  LEFT JOIN video_views vw ON vw.id = e.view_id AND vw.video_id = e.video_id
),
ev_ins AS (
  INSERT INTO video_events (video_id, view_id, event_type, timestamp, is_team)
  SELECT video_id, view_id, event_type, ts, CAST(:team AS boolean) FROM ev_chk, rl
  WHERE error IS NULL AND rl.hits <= CAST(:limit AS int)
  ORDER BY idx
  RETURNING 1
),
hb AS (
  SELECT h.*, row_number() OVER (ORDER BY h.idx) AS nth
  FROM unnest(CAST(:hb_idx AS int[]), CAST(:hb_view AS int[]), CAST(:hb_watch AS int[]),
              CAST(:hb_pos AS numeric[]), CAST(:hb_startup_ms AS int[]), CAST(:hb_rebuffers AS int[]),
              CAST(:hb_rebuffer_ms AS bigint[]), CAST(:hb_error_code AS text[]), CAST(:hb_bitrate AS int[]),
              CAST(:hb_height AS int[]), CAST(:hb_qoe AS boolean[]), CAST(:hb_ended AS boolean[]))
    AS h(idx, view_id, watch_time, position, startup_ms, rebuffers, rebuffer_ms, error_code, bitrate, height, qoe,
         ended)
),
{_item_budget_cte("hb_budget", "track-heartbeat", "hb", ":heartbeat_limit")},
hb_chk AS (
  SELECT h.*, {_CAPPED_WATCH_TIME.format(claimed="h.watch_time")} AS capped,
         CASE WHEN h.nth > (SELECT allowed FROM hb_budget) THEN 'rate_limited'
              WHEN vw.id IS NULL THEN 'view_not_found'
              WHEN h.position > v.duration + 1 THEN 'position_beyond_end' END AS error
  FROM hb h LEFT JOIN video_views vw ON vw.id = h.view_id LEFT JOIN videos v ON v.id = vw.video_id
),
samples AS (
  SELECT idx, view_id, ts AS position FROM ev_chk WHERE error IS NULL AND view_id IS NOT NULL
  UNION ALL
  SELECT idx, view_id, position FROM hb_chk WHERE error IS NULL
),
last_sample AS (
  -- A batch's items share one instant: each view's last position is its sample.
  SELECT DISTINCT ON (view_id) view_id, position FROM samples WHERE position IS NOT NULL ORDER BY view_id, idx DESC
),
first_reported AS (
  -- The first startup time and error code of each view in the batch's order (first value wins).
  SELECT view_id, (array_agg(startup_ms ORDER BY idx) FILTER (WHERE startup_ms IS NOT NULL))[1] AS startup_ms,
         (array_agg(error_code ORDER BY idx) FILTER (WHERE error_code IS NOT NULL))[1] AS error_code
  FROM hb_chk WHERE error IS NULL GROUP BY view_id
),
per_view AS (
  -- One row per view: a row must not be updated twice in one statement.
  SELECT changes.view_id, max(capped) AS capped, bool_or(completes) AS completes, bool_or(ended) AS ended,
         max(rebuffers) AS rebuffers, max(rebuffer_ms) AS rebuffer_ms, max(bitrate) AS bitrate,
         max(height) AS height, bool_or(qoe) AS qoe,
         (SELECT position FROM last_sample s WHERE s.view_id = changes.view_id) AS position,
         (SELECT startup_ms FROM first_reported f WHERE f.view_id = changes.view_id) AS startup_ms,
         (SELECT error_code FROM first_reported f WHERE f.view_id = changes.view_id) AS error_code
  FROM (
    SELECT view_id, capped, false AS completes, ended, rebuffers, rebuffer_ms, bitrate, height, qoe
    FROM hb_chk WHERE error IS NULL
    UNION ALL
    SELECT view_id, 0, event_type = 'complete', event_type = 'complete', NULL, NULL, NULL, NULL, false
    FROM ev_chk WHERE error IS NULL AND view_id IS NOT NULL
  ) AS changes, rl
  WHERE rl.hits <= CAST(:limit AS int)
  GROUP BY changes.view_id
),
upd AS (
  -- The single routes' 48-hour rule: a view older than that is answered and not changed.
  UPDATE video_views vw
  SET watch_time_seconds = GREATEST(vw.watch_time_seconds, p.capped),
      completed = vw.completed OR p.completes,
      {sample_sql("vw", "p.position", "(SELECT duration FROM videos WHERE id = vw.video_id)")},
      {_QOE_AND_END.format(src="p", capped="p.capped", slack=ELAPSED_SLACK_SECONDS)}
  FROM per_view p
  WHERE vw.id = p.view_id AND {_PROGRESSING}
  RETURNING 1
)
SELECT rl.hits, rl.retry_after,
  (SELECT COALESCE(json_agg(json_build_array(idx, error) ORDER BY idx), '[]')::text FROM (
     SELECT idx, error FROM ev_chk WHERE error IS NOT NULL
     UNION ALL SELECT idx, error FROM hb_chk WHERE error IS NOT NULL) AS bad),
  (SELECT count(*) FROM ev_ins), (SELECT count(*) FROM upd),
  GREATEST((SELECT retry_after FROM ev_budget_counted), (SELECT retry_after FROM hb_budget_counted))
FROM rl
"""


@dataclass(frozen=True)
class Limited:
    """The rate-limit outcome every tracking statement returns first."""

    hits: int
    retry_after: int


def _first_row(rows: list[Any]) -> list[Any]:
    return list(rows[0])


def insert_view(
    *,
    client_key: str,
    limit: int,
    video_id: int,
    team: bool,
    user_id: int | None,
    ip_hash: str | None,
    referer: str | None,
    context: ViewerContext,
    source: str | None,
) -> tuple[Limited, bool, int | None, str | None]:
    """``(rate, video_found, view_id, month)``; ``view_id`` is None when nothing was written, ``month``
    (``YYYY_MM``) the monthly partition that holds the view, None when it landed in the default one."""
    agent = context.agent
    row = _first_row(
        fastpath.run(
            "track_view",
            VIEW_SQL,
            {
                "client_key": client_key,
                "limit": limit,
                "video_id": video_id,
                "team": team,
                "user_id": user_id,
                "ip_hash": ip_hash,
                "referer": referer,
                "device_type": agent.device if agent else None,
                "browser": agent.browser if agent else None,
                "os": agent.os if agent else None,
                "country": context.country,
                "source": source,
            },
        )
    )
    found = _MONTHLY_PARTITION.search(row[4] or "")
    return Limited(int(row[0]), int(row[1])), bool(row[2]), row[3], found.group(1) if found else None


_MONTHLY_PARTITION = re.compile(rf"(?:^|\.){VIEWS}_(\d{{4}}_\d{{2}})$")


def _views_table(month: str | None) -> str:
    """Where a view of ``month`` (``YYYY_MM``, None: unknown) is read and updated."""
    if month is None:
        return VIEWS
    if not re.fullmatch(r"\d{4}_\d{2}", month):
        raise ValueError(f"not a month: {month!r}")
    return f"{VIEWS}_{month}"


@functools.lru_cache(maxsize=64)
def _prepared(kind: str, month: str | None, build: Callable[[str], str]) -> tuple[str, str]:
    """The statement's name and SQL for a view of ``month`` (one prepared statement per partition),
    built once per process: the text of the hot path's statements is a few kilobytes."""
    table = _views_table(month)
    return f"{kind}:{table}", build(table)


def insert_event(
    *,
    client_key: str,
    limit: int,
    video_id: int,
    team: bool,
    view_id: int | None,
    month: str | None,
    event_type: str,
    timestamp: str,
) -> tuple[Limited, int | None, bool, bool]:
    """``(rate, video_duration_or_None, view_belongs_to_video, inserted)``."""
    name, sql = _prepared("track_event", month, _event_sql)
    row = _first_row(
        fastpath.run(
            name,
            sql,
            {
                "client_key": client_key,
                "limit": limit,
                "video_id": video_id,
                "team": team,
                "view_id": view_id,
                "event_type": event_type,
                "ts": timestamp,
            },
        )
    )
    return Limited(int(row[0]), int(row[1])), row[2], bool(row[3]), row[4] is not None


@dataclass(frozen=True)
class Heartbeat:
    """What a heartbeat statement answers after the rate limit."""

    view_found: bool
    watch_time: int
    position_ok: bool
    duration: int | None


def update_watch_time(
    *,
    client_key: str,
    limit: int,
    view_id: int,
    month: str | None,
    watch_time: int,
    position: str | None,
    qoe: PlayerQoe | None,
    ended: bool,
) -> tuple[Limited, Heartbeat]:
    """Raise the view's watch time and QoE, record the heartbeat (a position sample when ``position`` is
    given) and, when ``ended``, end the view."""
    name, sql = _prepared("track_heartbeat", month, _heartbeat_sql)
    params = {
        "client_key": client_key,
        "limit": limit,
        "view_id": view_id,
        "watch_time": watch_time,
        "position": position,
        "ended": ended,
        "qoe_figures": _qoe_figures(qoe),
        "error_code": qoe.error_code if qoe else None,
    }
    hits, retry_after, new_watch_time, duration = _first_row(fastpath.run(name, sql, params))
    rate = Limited(int(hits), int(retry_after))
    if new_watch_time is not None:
        return rate, Heartbeat(True, int(new_watch_time), True, int(duration))
    if rate.hits > limit:
        return rate, Heartbeat(False, 0, True, None)  # refused for the rate: nothing else is asked
    name, sql = _prepared("track_heartbeat_unchanged", month, _unchanged_view_sql)
    rows = fastpath.run(name, sql, {"view_id": view_id, "position": position})
    if not rows:
        return rate, Heartbeat(False, 0, True, None)
    current, position_ok, duration = rows[0]
    return rate, Heartbeat(True, int(current or 0), bool(position_ok), None if duration is None else int(duration))


def _qoe_figures(qoe: PlayerQoe | None) -> str | None:
    """A report's numbers as one ``bigint[]`` literal: startup, rebuffers, rebuffer time, bitrate, height."""
    if qoe is None:
        return None
    figures = (qoe.startup_time_ms, qoe.rebuffer_count, qoe.rebuffer_ms, qoe.bitrate_kbps, qoe.height)
    return "{" + ",".join("NULL" if figure is None else str(int(figure)) for figure in figures) + "}"


def _qoe_params(qoe: PlayerQoe | None) -> dict[str, Any]:
    report = qoe or PlayerQoe()
    return {
        "qoe": qoe is not None,
        "startup_ms": report.startup_time_ms,
        "rebuffers": report.rebuffer_count,
        "rebuffer_ms": report.rebuffer_ms,
        "error_code": report.error_code,
        "bitrate": report.bitrate_kbps,
        "height": report.height,
    }


@dataclass
class BatchRows:
    """Column arrays of a batch's valid items, with each item's index in the request."""

    ev_idx: list[int] = field(default_factory=list)
    ev_video: list[int] = field(default_factory=list)
    ev_view: list[int | None] = field(default_factory=list)
    ev_type: list[str] = field(default_factory=list)
    ev_ts: list[str] = field(default_factory=list)
    hb_idx: list[int] = field(default_factory=list)
    hb_view: list[int] = field(default_factory=list)
    hb_watch: list[int] = field(default_factory=list)
    hb_pos: list[str | None] = field(default_factory=list)
    hb_qoe: list[PlayerQoe | None] = field(default_factory=list)
    hb_ended: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class BatchLimits:
    """Per-IP budgets a batch counts against: its own, and the single routes' for its items."""

    batch: int
    events: int
    heartbeats: int


def write_batch(
    *, client_key: str, limits: BatchLimits, team: bool, rows: BatchRows
) -> tuple[Limited, list[tuple[int, str]], int]:
    """Write a whole batch in one statement; return the batch's rate, the items the database refused
    (with the codes of ``BATCH_SQL``) and when an item refused for the rate may be sent again."""
    import json

    qoe = [_qoe_params(report) for report in rows.hb_qoe]
    row = _first_row(
        fastpath.run(
            "track_batch",
            BATCH_SQL,
            {
                "client_key": client_key,
                "limit": limits.batch,
                "event_limit": limits.events,
                "heartbeat_limit": limits.heartbeats,
                "team": team,
                "ev_idx": _pg_array(rows.ev_idx),
                "ev_video": _pg_array(rows.ev_video),
                "ev_view": _pg_array(rows.ev_view),
                "ev_type": _pg_array(rows.ev_type),
                "ev_ts": _pg_array(rows.ev_ts),
                "hb_idx": _pg_array(rows.hb_idx),
                "hb_view": _pg_array(rows.hb_view),
                "hb_watch": _pg_array(rows.hb_watch),
                "hb_pos": _pg_array(rows.hb_pos),
                "hb_ended": _pg_array(rows.hb_ended),
                **{f"hb_{name}": _pg_array([item[name] for item in qoe]) for name in _BATCH_QOE},
            },
        )
    )
    refused = [(int(index), str(error)) for index, error in json.loads(row[2] or "[]")]
    return Limited(int(row[0]), int(row[1])), refused, int(row[5] or 1)


# The batch's QoE arrays, named hb_<name> after the single heartbeat's parameters.
_BATCH_QOE = {"qoe", "startup_ms", "rebuffers", "rebuffer_ms", "error_code", "bitrate", "height"}


def _pg_array(values: list[Any]) -> str:
    """An array literal of validated ints, booleans, decimal strings, enum words or error codes
    (``[A-Za-z0-9_.:-]`` only: the schema refuses anything else), never free text."""
    return "{" + ",".join(_array_item(value) for value in values) + "}"


def _array_item(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return f'"{value}"'  # quoted, so that an error code spelled NULL stays text
    return str(value)
