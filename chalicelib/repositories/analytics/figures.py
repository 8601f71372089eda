"""The SQL side of the figures every analytics roll-up row holds: column names, sums, and rows read as
:class:`~chalicelib.domain.figures.Figures`; event columns follow :data:`EVENT_TYPES`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.domain.events import EVENT_TYPES
from chalicelib.domain.figures import Figures

EVENT_COLUMNS = tuple(f"{kind}_events" for kind in EVENT_TYPES)
# Figures that add up across hours, days and scopes (distinct viewers do not).
ADDITIVE = ("views", "watch_time_seconds", "completed_views", *EVENT_COLUMNS)
# The views every figure counts: all but bots' (a bot is what the User-Agent parser calls a spider).
COUNTED_VIEWS = "(SELECT * FROM video_views WHERE device_type IS DISTINCT FROM 'bot')"
# A report's spans as rows ``s(start, end, position)``, from two timestamp arrays: one statement for all points.
SPANS = (
    'unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) WITH ORDINALITY AS s(start, "end", position)'
)


def span_params(spans: Iterable[tuple[datetime, datetime]]) -> dict[str, list[datetime]]:
    """The ``:starts`` and ``:ends`` parameters of :data:`SPANS` (row ``position`` n is the n-th span, from 1)."""
    pairs = list(spans)
    return {"starts": [start for start, _ in pairs], "ends": [end for _, end in pairs]}


def figures_of(row: Any) -> Figures:
    """The figures of a result row with a column per figure (named as in :data:`ADDITIVE`, and ``peak_viewers``)."""
    mapping = row._mapping
    return Figures(
        views=int(mapping["views"] or 0),
        watch_time_seconds=int(mapping["watch_time_seconds"] or 0),
        completed_views=int(mapping["completed_views"] or 0),
        events=tuple(int(mapping[column] or 0) for column in EVENT_COLUMNS),
        peak_viewers=int(mapping.get("peak_viewers") or 0),
    )


def sum_columns(alias: str = "") -> str:
    """``COALESCE(sum(x), 0) AS x`` for every additive figure, and the peak's max (``alias.`` before each column)."""
    prefix = f"{alias}." if alias else ""
    sums = ", ".join(f"COALESCE(sum({prefix}{name}), 0) AS {name}" for name in ADDITIVE)
    return f"{sums}, COALESCE(max({prefix}peak_viewers), 0) AS peak_viewers"


def event_counts_sql(alias: str) -> str:
    """``count(*) FILTER (WHERE e.event_type = 'play') AS play_events, ...`` over events aliased ``alias``."""
    return ", ".join(f"count(*) FILTER (WHERE {alias}.event_type = '{kind}') AS {kind}_events" for kind in EVENT_TYPES)
