"""Which parts of a video each view played, and whether it is still being watched.

Every view keeps its last position sample (``last_position`` at ``last_position_at``: the view
itself starts at 0, then each event's timestamp and each heartbeat's ``position``) and a
bitmap of the hundredths of the video it played (``played``, ``bit(100)``). When a new
sample arrives, the span from the last one counts as played when the position advanced
by about the time that passed: at least half and at most twice the elapsed seconds, give
or take 2 s (players at 0.5x-2x speed, heartbeat jitter); a seek, or a pause without an
event, fills nothing. The SQL below is written once and used by the tracking statements.

A view is live while its last view, event or heartbeat is at most :data:`LIVE_SECONDS`
old; for peaks per minute it counts as live from its start to its last activity.
"""

from __future__ import annotations

POINTS = 100
LIVE_SECONDS = 30
# A heartbeat counts only while its view is younger than this: later ones change nothing (and the
# refresh stops refolding the view's watch time and completion). Bounding the heartbeat's lookups
# by it also lets PostgreSQL probe only this month's (or two months') partitions of video_views,
# instead of one primary-key probe per month kept (measured in docs/benchmark.md).
PROGRESS_HOURS = 48
# A view started longer ago than this is never live: the bound is what keeps the live counts and
# the peaks of the unfolded tail to an index range over a few hours of views (every view still
# active must be read, and last activity changes on each heartbeat, so it is not indexed: an index
# would cost every heartbeat its HOT update). A page left playing one view for more than 6 hours
# is rare; at 24 hours the overview read four times the rows for the same answer.
LIVE_HORIZON_HOURS = 6
ZEROS = f"CAST(B'0' AS bit({POINTS}))"
_ONES = f"(~{ZEROS})"


def bucket_sql(position: str, duration: str) -> str:
    """The hundredth (0..99) of a video holding ``position`` seconds."""
    return f"LEAST({POINTS - 1}, GREATEST(0, floor({position} * {POINTS} / {duration})))::int"


def played_sql(view: str, position: str, duration: str) -> str:
    """The bitmap of the view row aliased ``view`` after a sample at ``position`` now: the span since its
    last sample added when it was played."""
    played, last_position = f"{view}.played", f"COALESCE({view}.last_position, 0)"
    elapsed = f"extract(epoch FROM now() - COALESCE({view}.last_position_at, {view}.created_at))"
    advance = f"({position} - {last_position})"
    first, last = bucket_sql(last_position, duration), bucket_sql(position, duration)
    mask = f"(({_ONES} >> {first}) & ~({_ONES} >> ({last} + 1)))"
    return f"""CASE
      WHEN {position} IS NOT NULL AND {duration} > 0 AND {advance} > 0
           AND {advance} BETWEEN {elapsed} / 2 - 2 AND {elapsed} * 2 + 2
      THEN COALESCE({played}, {ZEROS}) | {mask}
      ELSE {played}
    END"""


def sample_sql(view: str, position: str, duration: str) -> str:
    """``SET`` assignments recording activity on the view row aliased ``view``; a sample when ``position`` is set."""
    return f"""last_seen_at = now(),
      played = {played_sql(view, position, duration)},
      last_position = COALESCE({position}, {view}.last_position),
      last_position_at = CASE WHEN {position} IS NULL THEN {view}.last_position_at ELSE now() END"""
