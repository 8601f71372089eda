"""A period's analytics figures (views, watch time, completions, event counts, peak viewers), and how periods add up."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.events import EVENT_TYPES

_NO_EVENTS = (0,) * len(EVENT_TYPES)


@dataclass(frozen=True)
class Figures:
    """A period's figures. Adding two periods sums them, except the peak of concurrent viewers,
    which is the larger of the two (a day's peak is its busiest hour's)."""

    views: int = 0
    watch_time_seconds: int = 0
    completed_views: int = 0
    events: tuple[int, ...] = _NO_EVENTS  # counts in EVENT_TYPES order
    peak_viewers: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.views + other.views,
            self.watch_time_seconds + other.watch_time_seconds,
            self.completed_views + other.completed_views,
            tuple(a + b for a, b in zip(self.events, other.events, strict=True)),
            max(self.peak_viewers, other.peak_viewers),
        )

    def __sub__(self, other: Figures) -> Figures:
        """The change of the additive figures (the peak is not a sum: it is left out)."""
        return Figures(
            self.views - other.views,
            self.watch_time_seconds - other.watch_time_seconds,
            self.completed_views - other.completed_views,
            tuple(a - b for a, b in zip(self.events, other.events, strict=True)),
        )

    def event_counts(self) -> dict[str, int]:
        return dict(zip(EVENT_TYPES, self.events, strict=True))
