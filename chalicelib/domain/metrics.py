"""The registry of breakdown and quality-of-experience figures: every measure, metric and dimension declared once.

* A :class:`Measure` is one additive column of the breakdown roll-ups: how a group of raw
  views (aliased ``vw``) folds into it. Roll-ups, the raw tail and any sum of periods add
  measures, so a period's measures are just a dict of sums (:data:`Sums`).
* A :class:`Metric` is what an answer reports (its wire name and definition): derived from
  a period's sums (``derive``), except ``uniqueViewers``, merged from viewer sketches.
* A :class:`Dimension` is what a breakdown groups views by: a SQL expression over the
  view's columns, its wire name (``by=``) and its definition.

The breakdown roll-up tables, their fold and tail SQL (``repositories.analytics.breakdowns``),
the table models, the reports' ``qoe`` objects, the breakdown answers, the OpenAPI enums and
the ``definitions`` all follow from these lists, read when used (never copied at import), so
adding a dimension is one entry here plus the column it reads (a migration) and a test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Sums = Mapping[str, int]


@dataclass(frozen=True)
class Measure:
    """An additive roll-up column: ``fold`` aggregates the raw views ``vw`` of a group into it."""

    column: str
    fold: str
    big: bool = False  # bigint rather than int


@dataclass(frozen=True)
class Metric:
    """A figure of an answer: its wire name, its definition, and how a period's sums give it."""

    name: str
    definition: str
    # None: not a function of sums (distinct viewers are merged from sketches, see services.analytics.breakdowns).
    derive: Callable[[Sums], float | int | None] | None
    qoe: bool = False  # part of the reports' ``qoe`` object
    integer: bool = True  # an integer (a count, milliseconds), else a fraction or a rate
    always: bool = True  # never null (a count); else null when there is nothing to measure it on


@dataclass(frozen=True)
class Dimension:
    """What a breakdown groups by: ``expression`` over the view ``vw`` (NULL: not known)."""

    name: str
    expression: str
    definition: str


# Startup time histogram: bucket k holds [STARTUP_BOUNDS[k-1], STARTUP_BOUNDS[k]) ms (the first from 0,
# the last open-ended). Bounds grow by 20 %, so a percentile read as its bucket's geometric middle is
# within about 10 % of the exact one (within 50 ms below 100 ms); mergeable by adding counts.
STARTUP_GROWTH = 1.2
STARTUP_BOUNDS: tuple[int, ...] = tuple(
    round(100 * STARTUP_GROWTH**k) for k in range(int(math.log(600) / math.log(STARTUP_GROWTH)) + 1)
)
_PLAYED = "vw.qoe_at IS NOT NULL"


def startup_column(position: int) -> str:
    """The column of the histogram's bucket ``position`` (0 .. len(STARTUP_BOUNDS))."""
    if position == len(STARTUP_BOUNDS):
        return f"startup_ge_{STARTUP_BOUNDS[-1]}"
    return f"startup_lt_{STARTUP_BOUNDS[position]}"


STARTUP_COLUMNS: tuple[str, ...] = tuple(startup_column(position) for position in range(len(STARTUP_BOUNDS) + 1))


def _startup_buckets() -> tuple[Measure, ...]:
    lows = (0, *STARTUP_BOUNDS)
    measures = []
    for position, low in enumerate(lows):
        high = STARTUP_BOUNDS[position] if position < len(STARTUP_BOUNDS) else None
        upper = f" AND vw.startup_time_ms < {high}" if high is not None else ""
        measures.append(
            Measure(startup_column(position), f"count(*) FILTER (WHERE vw.startup_time_ms >= {low}{upper})")
        )
    return tuple(measures)


MEASURES: tuple[Measure, ...] = (
    Measure("views", "count(*)"),
    Measure("watch_time_seconds", "COALESCE(sum(vw.watch_time_seconds), 0)", big=True),
    Measure("completed_views", "count(*) FILTER (WHERE vw.completed)"),
    Measure("plays", f"count(*) FILTER (WHERE {_PLAYED})"),
    Measure("played_seconds", f"COALESCE(sum(vw.watch_time_seconds) FILTER (WHERE {_PLAYED}), 0)", big=True),
    Measure("rebuffers", f"COALESCE(sum(vw.rebuffer_count) FILTER (WHERE {_PLAYED}), 0)", big=True),
    Measure("rebuffer_ms", f"COALESCE(sum(vw.rebuffer_ms) FILTER (WHERE {_PLAYED}), 0)", big=True),
    Measure("failures", f"count(*) FILTER (WHERE {_PLAYED} AND vw.error_code IS NOT NULL)"),
    Measure(
        "exits_before_start",
        f"count(*) FILTER (WHERE {_PLAYED} AND vw.startup_time_ms IS NULL AND vw.error_code IS NULL)",
    ),
    *_startup_buckets(),
)


def startup_percentile(sums: Sums, fraction: float) -> int | None:
    """The startup time below which ``fraction`` of the started plays fall, from the histogram (None: no start).

    The nearest-rank bucket's geometric middle (half the first bucket's bound, the last bucket's lower bound).
    """
    counts = [int(sums.get(column, 0)) for column in STARTUP_COLUMNS]
    started = sum(counts)
    if not started:
        return None
    rank = max(1, math.ceil(fraction * started))
    seen = 0
    for position, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return _middle(position)
    return _middle(len(counts) - 1)  # pragma: no cover - the ranks add up to ``started``


def _middle(position: int) -> int:
    if position == 0:
        return STARTUP_BOUNDS[0] // 2
    if position == len(STARTUP_BOUNDS):
        return STARTUP_BOUNDS[-1]
    return round(math.sqrt(STARTUP_BOUNDS[position - 1] * STARTUP_BOUNDS[position]))


def _ratio(numerator: str, denominator: str, scale: float = 1.0, digits: int = 4) -> Callable[[Sums], float | None]:
    def derive(sums: Sums) -> float | None:
        below = sums.get(denominator, 0)
        return round(sums.get(numerator, 0) * scale / below, digits) if below else None

    return derive


def _count(column: str) -> Callable[[Sums], int]:
    return lambda sums: int(sums.get(column, 0))


def _percentile(fraction: float) -> Callable[[Sums], int | None]:
    return lambda sums: startup_percentile(sums, fraction)


def _rebuffer_ratio(sums: Sums) -> float | None:
    watched = sums.get("played_seconds", 0)
    return round(sums.get("rebuffer_ms", 0) / 1000 / watched, 4) if watched else None


UNIQUE_VIEWERS = "uniqueViewers"
# The reports' own sentences for the figures they share with breakdowns (``services.analytics.definitions``).
VIEWS = (
    "A view is one POST /api/track/view: a player loading the video once. Views recorded with an admin "
    "token are team views, left out unless includeTeam=true."
)
WATCH_TIME = (
    "Watch time is the sum over views of the furthest playback time each player reported by heartbeat "
    "(capped at the time since the view started + 30 s and at 3x the video's duration; heartbeats more "
    "than 48 hours after a view started are not counted)."
)
COMPLETION = (
    "A view is completed when its player sent a complete event; completion rate is completed views / views x 100."
)
PLAYS = (
    "Views whose player reported quality of experience (the SDK does from its first heartbeat; "
    "views from players that measure nothing are left out of every qoe figure)"
)
STARTUP_ERROR = (
    f"read from a histogram whose buckets grow by {round((STARTUP_GROWTH - 1) * 100)} %: within about "
    f"{round((math.sqrt(STARTUP_GROWTH) - 1) * 100)} % of the exact value, within {STARTUP_BOUNDS[0] // 2} ms "
    f"below {STARTUP_BOUNDS[0]} ms, and {STARTUP_BOUNDS[-1]} ms for a percentile beyond it"
)
METRICS: tuple[Metric, ...] = (
    Metric("views", VIEWS, _count("views")),
    Metric(UNIQUE_VIEWERS, "Distinct viewers, counted or merged from sketches per value.", None),
    Metric("watchTime", WATCH_TIME, _count("watch_time_seconds")),
    Metric("completionRate", COMPLETION, _ratio("completed_views", "views", 100, 2), integer=False, always=False),
    Metric("plays", f"{PLAYS}.", _count("plays"), qoe=True),
    Metric("startupTimeP50Ms", f"Median time from play requested to first frame of plays that started, in ms, "
           f"{STARTUP_ERROR}; null without a start.", _percentile(0.5), qoe=True, always=False),
    Metric("startupTimeP95Ms", "95th percentile of the startup time of plays that started, in ms, "
           f"{STARTUP_ERROR}; null without a start.", _percentile(0.95), qoe=True, always=False),
    Metric("rebufferRatio", "Time spent stalled after the first frame / watch time of plays (0..1); "
           "null without watch time.", _rebuffer_ratio, qoe=True, integer=False, always=False),
    Metric("rebuffersPerHour", "Stalls after the first frame per hour of watch time of plays; null without "
           "watch time.", _ratio("rebuffers", "played_seconds", 3600, 2), qoe=True, integer=False, always=False),
    Metric("playbackFailureRate", "Plays that ended in a fatal playback error / plays (0..1); null without plays.",
           _ratio("failures", "plays"), qoe=True, integer=False, always=False),
    Metric("exitsBeforeStartRate", "Plays left before their first frame, without an error / plays (0..1); "
           "null without plays.", _ratio("exits_before_start", "plays"), qoe=True, integer=False, always=False),
)  # fmt: skip

_HOST = r"substring(vw.referer from '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)')"
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("country", "vw.country", "The viewer's country: the ISO 3166-1 alpha-2 code the edge sent."),
    Dimension("device", "vw.device_type", "Device type from the User-Agent: desktop, mobile, tablet or tv."),
    Dimension("browser", "vw.browser", "Browser family from the User-Agent (ua-parser)."),
    Dimension("os", "vw.os", "Operating system family from the User-Agent (ua-parser)."),
    Dimension("referrerHost", f"lower({_HOST})", "The host of the page the player was on (its referrer)."),
)
UNKNOWN_VALUE = ""  # stored for a NULL expression (not known), answered as null
NOT_KNOWN = "A value of null: not known for those views (no header, no referrer, or recorded before it was)."


def metric(name: str) -> Metric:
    return next(item for item in METRICS if item.name == name)


def dimension(name: str) -> Dimension:
    return next(item for item in DIMENSIONS if item.name == name)


def qoe_metrics() -> tuple[Metric, ...]:
    return tuple(item for item in METRICS if item.qoe)


def derive_all(sums: Sums, metrics: tuple[Metric, ...]) -> dict[str, float | int | None]:
    """Each metric's value from a period's sums (``uniqueViewers`` aside)."""
    return {item.name: item.derive(sums) for item in metrics if item.derive is not None}
