"""The figures a video answer shows (the list, a video, top videos): the reports' all-time rule, for many
videos at once.

A report's all-time figures (``combine.all_time``) are the refresh's totals plus the raw
views after its watermark; distinct viewers are one source's exact count when one source
holds every view, else recounted over the raw rows while they are few (and all kept),
else estimated from the sketches and the tail's viewers. The same rule is applied here to
a page of videos read in one statement (``repositories.analytics.current``), so the list,
a single video, top videos and the reports count a view from the instant it is stored,
without waiting for a refresh, and agree on every figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.sketch import Sketch
from chalicelib.domain.video import VideoFigures
from chalicelib.repositories.analytics import current
from chalicelib.services.analytics.combine import EXACT_VIEWS_LIMIT

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

PUBLIC = (False,)  # team views are left out of a video's figures, as reports leave them out by default


def figures_of_videos(
    connection: Connection, videos: Iterable[int], teams: tuple[bool, ...] = PUBLIC
) -> dict[int, VideoFigures]:
    """Each video's all-time figures now (zeros for one without views), in one statement for all."""
    rows = current.figures_of_videos(connection, sorted(set(videos)), teams, EXACT_VIEWS_LIMIT)
    return {row.video_id: _figures(row) for row in rows}


def _figures(row: current.CurrentRow) -> VideoFigures:
    viewers, exact = _viewers(row)
    return VideoFigures(row.views, row.watch_time_seconds, row.completed_views, viewers, exact)


def _viewers(row: current.CurrentRow) -> tuple[int, bool]:
    """Distinct viewers and whether the count is exact: the same order of choices as a report's."""
    if row.sources == 0:  # the tail alone (or no views at all)
        return row.tail_viewers, True
    if row.tail_views == 0 and row.sources == 1 and row.sources_exact:  # one exact source
        return row.source_viewers, True
    if row.recounted is not None:  # several sources, few views, every raw row kept
        return row.recounted, True
    sketch = Sketch.of_keys(row.tail_keys)
    for blob in row.sketches:
        sketch.merge_blob(blob)
    return sketch.estimate() + row.legacy, False
