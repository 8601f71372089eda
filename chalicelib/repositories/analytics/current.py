"""Every video's all-time figures as reports count them, for a page of videos in one statement.

The refresh's totals (``analytics_totals``) hold everything folded before its watermark,
and the raw views after it (the tail) are added, exactly as a report adds them
(``services.analytics.combine.all_time``). One statement reads the watermark too, so every
video of a page is counted at one instant, whatever the refresh commits meanwhile. What
distinct viewers need beyond the sums is read only for the videos that need it: a recount
over the raw rows when the views are few, else the sketches and the tail's viewer keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import text

from chalicelib.domain.sketch import VIEWER_KEY_SQL
from chalicelib.repositories.analytics.figures import COUNTED_VIEWS
from chalicelib.repositories.analytics.state import FOLD_FLOOR, FOLDED_UNTIL, RAW_KEPT_FROM

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_VIEWER = VIEWER_KEY_SQL.format(p="vw.")
_TEAMS = "is_team = ANY(CAST(:teams AS boolean[]))"
# A team flag of the totals (``team``) or of raw rows (``is_team``).
_TOTAL_TEAMS = "t.team = ANY(CAST(:teams AS boolean[]))"

# The tail's distinct viewers who had viewed the video before the watermark (a user by id, an anonymous
# visitor by key; a view with neither is a viewer of its own, never seen before). Added to the stored
# exact count, the rest give the same exact count as a recount over every raw row, at the cost of the
# tail: a user is found by the user id index, a visitor by an index-only probe of the video's
# (video_id, created_at) INCLUDE (user_id, ip_address) index, the heap read only for a match.
# ``OFFSET 0`` keeps PostgreSQL from turning the user's EXISTS into a hash of every earlier viewer of
# the video, and ``COALESCE(user_id, 0) = 0`` from probing anonymous views by the user id index.
_TAIL_VIEWERS_SEEN_BEFORE = f"""
    SELECT count(*) FROM (
      SELECT DISTINCT vw.user_id, CASE WHEN vw.user_id IS NULL THEN vw.ip_address END AS ip_address
      FROM {COUNTED_VIEWS} vw
      WHERE vw.video_id = d.video_id AND vw.created_at >= d.folded_until AND vw.{_TEAMS}
        AND (vw.user_id IS NOT NULL OR vw.ip_address IS NOT NULL)
    ) k
    WHERE CASE WHEN k.user_id IS NOT NULL THEN EXISTS (
        SELECT 1 FROM video_views p
        WHERE p.user_id = k.user_id AND p.video_id = d.video_id AND p.created_at < d.folded_until
          AND p.device_type IS DISTINCT FROM 'bot' AND p.{_TEAMS}
        OFFSET 0
      ) ELSE EXISTS (
        SELECT 1 FROM (
          SELECT p.created_at FROM video_views p
          WHERE p.video_id = d.video_id AND p.created_at < d.folded_until AND COALESCE(p.user_id, 0) = 0
            AND p.ip_address = k.ip_address
          OFFSET 0
        ) c JOIN video_views h ON h.video_id = d.video_id AND h.created_at = c.created_at
        WHERE h.user_id IS NULL AND h.ip_address = k.ip_address AND h.device_type IS DISTINCT FROM 'bot'
          AND h.{_TEAMS}
      ) END
"""

_FIGURES = text(
    f"""
    WITH fold AS (
      SELECT COALESCE((SELECT at FROM analytics_state WHERE name = '{FOLDED_UNTIL}'), '-infinity') AS folded_until,
             (SELECT max(at) FROM analytics_state WHERE name IN ('{RAW_KEPT_FROM}', '{FOLD_FLOOR}')) AS kept_from
    ),
    asked AS (SELECT DISTINCT unnest(CAST(:videos AS int[])) AS video_id),
    folded AS (
      SELECT t.scope_id AS video_id, sum(t.views) AS views, sum(t.watch_time_seconds) AS watch_time_seconds,
             sum(t.completed_views) AS completed_views,
             count(*) FILTER (WHERE t.views > 0) AS sources,
             bool_and(t.viewers_exact) FILTER (WHERE t.views > 0) AS sources_exact,
             COALESCE(sum(t.viewers) FILTER (WHERE t.views > 0), 0) AS source_viewers,
             COALESCE(sum(t.viewers) FILTER (WHERE t.views > 0 AND t.sketch IS NULL), 0) AS legacy
      FROM analytics_totals t
      WHERE t.scope_id = ANY(CAST(:videos AS int[])) AND {_TOTAL_TEAMS}
      GROUP BY t.scope_id
    ),
    tail AS (
      SELECT vw.video_id, count(*) AS views, sum(vw.watch_time_seconds) AS watch_time_seconds,
             count(*) FILTER (WHERE vw.completed) AS completed_views, count(DISTINCT {_VIEWER}) AS viewers
      FROM {COUNTED_VIEWS} vw CROSS JOIN fold
      WHERE vw.video_id = ANY(CAST(:videos AS int[])) AND vw.created_at >= fold.folded_until AND vw.{_TEAMS}
      GROUP BY vw.video_id
    ),
    joined AS (
      SELECT a.video_id, fold.folded_until, fold.kept_from IS NULL AS raw_kept,
             COALESCE(f.views, 0) + COALESCE(tl.views, 0) AS views,
             COALESCE(f.watch_time_seconds, 0) + COALESCE(tl.watch_time_seconds, 0) AS watch_time_seconds,
             COALESCE(f.completed_views, 0) + COALESCE(tl.completed_views, 0) AS completed_views,
             COALESCE(f.sources, 0) AS sources, COALESCE(f.sources_exact, true) AS sources_exact,
             COALESCE(f.source_viewers, 0) AS source_viewers, COALESCE(f.legacy, 0) AS legacy,
             COALESCE(tl.views, 0) AS tail_views, COALESCE(tl.viewers, 0) AS tail_viewers
      FROM asked a CROSS JOIN fold LEFT JOIN folded f USING (video_id) LEFT JOIN tail tl USING (video_id)
    ),
    decided AS (
      SELECT j.*,
             NOT ((j.sources = 0) OR (j.tail_views = 0 AND j.sources = 1 AND j.sources_exact)) AS mixed,
             j.views <= :exact_limit AND j.raw_kept AS cheap,
             j.sources = 1 AND j.sources_exact AS one_exact
      FROM joined j
    )
    SELECT d.video_id, d.views, d.watch_time_seconds, d.completed_views, d.sources, d.sources_exact,
           d.source_viewers, d.legacy,
           d.tail_views, d.tail_viewers,
           CASE WHEN d.mixed AND d.cheap AND d.one_exact THEN d.source_viewers + d.tail_viewers - (
             {_TAIL_VIEWERS_SEEN_BEFORE}
           ) WHEN d.mixed AND d.cheap THEN (
             SELECT count(DISTINCT {_VIEWER}) FROM {COUNTED_VIEWS} vw WHERE vw.video_id = d.video_id AND vw.{_TEAMS}
           ) END AS recounted,
           s.sketches, s.lengths,
           CASE WHEN d.mixed AND NOT d.cheap THEN (
             SELECT array_agg(DISTINCT {_VIEWER}) FROM {COUNTED_VIEWS} vw
             WHERE vw.video_id = d.video_id AND vw.created_at >= d.folded_until AND vw.{_TEAMS}
           ) END AS tail_keys
    FROM decided d
    -- The sketches as one bytea and their lengths: the driver parses a bytea[] character by character
    -- in Python, a bytea at C speed.
    LEFT JOIN LATERAL (
      SELECT string_agg(t.sketch, ''::bytea) AS sketches, array_agg(length(t.sketch)) AS lengths
      FROM analytics_totals t
      WHERE d.mixed AND NOT d.cheap AND t.scope_id = d.video_id AND {_TOTAL_TEAMS} AND t.views > 0
        AND t.sketch IS NOT NULL
    ) s ON true
    """
)


class CurrentRow(NamedTuple):
    """A video's sums (totals plus tail) and what its distinct viewers are counted from."""

    video_id: int
    views: int
    watch_time_seconds: int
    completed_views: int
    sources: int  # totals rows with views (one per team flag asked for)
    sources_exact: bool  # every one of them counted its viewers exactly
    source_viewers: int  # their stored viewers: the count itself when there is one source
    legacy: int  # viewers of totals rows without a sketch (added to an estimate)
    tail_views: int
    tail_viewers: int  # distinct viewers of the tail
    recounted: int | None  # exact distinct viewers of every raw row, when they are few and all kept
    sketches: list[bytes]  # for an estimate: the totals' sketches...
    tail_keys: list[str]  # ...and the tail's viewer keys


def figures_of_videos(
    connection: Connection, videos: list[int], teams: tuple[bool, ...], exact_limit: int
) -> list[CurrentRow]:
    """One row per video asked for (zeros for a video without views); ``exact_limit``: views up to which
    distinct viewers are recounted over raw rows rather than estimated."""
    if not videos:
        return []
    params = {"videos": videos, "teams": list(teams), "exact_limit": exact_limit}
    return [
        CurrentRow(
            int(row.video_id),
            int(row.views),
            int(row.watch_time_seconds),
            int(row.completed_views),
            int(row.sources),
            bool(row.sources_exact),
            int(row.source_viewers),
            int(row.legacy),
            int(row.tail_views),
            int(row.tail_viewers),
            None if row.recounted is None else int(row.recounted),
            _split(row.sketches, row.lengths),
            [str(key) for key in row.tail_keys or []],
        )
        for row in connection.execute(_FIGURES, params)
    ]


def _split(joined: bytes | None, lengths: list[int] | None) -> list[bytes]:
    """The sketches ``string_agg`` joined, cut back at their lengths."""
    blobs, offset = [], 0
    for length in lengths or []:
        blobs.append(bytes(joined[offset : offset + length]) if joined else b"")
        offset += length
    return blobs
