"""What each figure of an analytics answer means, in one sentence each (``definitions``).

The same sentences are in the README's analytics section; every answer carries the ones
its figures use, with the unique-viewer sentence saying whether its count is exact.
"""

from __future__ import annotations

from chalicelib.domain import metrics
from chalicelib.domain.audience import LIVE_HORIZON_HOURS, LIVE_SECONDS
from chalicelib.domain.events import EVENT_TYPES
from chalicelib.domain.sketch import BREAKDOWNS, SCOPES, Precision

VIEW = metrics.VIEWS
ANONYMOUS_VISITORS = {
    "daily": (
        "distinct visitors: a keyed hash of IP address and User-Agent, salted anew every UTC day, so no key "
        "links days and over a range longer than a day an anonymous visitor counts once for each UTC day they came"
    ),
    "never": (
        "distinct visitors: a keyed hash of IP address and User-Agent, the same every day, so an anonymous "
        "visitor counts once over any range while their address and browser stay the same"
    ),
}


def unique_viewers(exact: bool, layout: Precision = SCOPES) -> str:
    """What a unique viewer is under the configured salt rotation, and whether this count is exact."""
    from chalicelib.config import get_settings

    who = (
        "Unique viewers are distinct signed-in users who consented to analytics, else "
        f"{ANONYMOUS_VISITORS[get_settings().visitor_salt_rotation]} (a view with neither is a viewer of its own)"
    )
    if exact:
        return f"{who}; this count is exact."
    error = f"standard error {layout.standard_error * 100:.2f}%"
    return (
        f"{who}; this count is estimated with HyperLogLog sketches ({error}), "
        "because counting exactly would read every view of the range."
    )


VIEWER_PER_POINT = (
    "Each point's uniqueViewers is exact when uniqueViewersExact says so (days counted from raw views when "
    "they were folded, small periods), else estimated like the total."
)
VIEWER_TOP = (
    "uniqueViewers of top videos is each video's all-time count, the same as its own answer and its report: "
    "counted from the moment a view is stored, exact while its views are few (estimated with HyperLogLog "
    "beyond), team viewers counted in when includeTeam=true."
)
WATCH_TIME = metrics.WATCH_TIME
AVERAGE = "Average watch time is total watch time divided by views."
COMPLETION = metrics.COMPLETION
EVENTS = f"Event counts are the {', '.join(EVENT_TYPES)} events players sent (team views' left out likewise)."
POINTS = {
    "day": "Points are calendar days of {zone} (tz); each counts the views started that day.",
    "hour": (
        "Points are the hours of {zone} (tz) from the first day's midnight; each counts the views started that hour."
    ),
}
AS_OF = (
    "asOf is when raw rows were last folded into roll-ups: views and events up to the request are counted, "
    "watch time and completion of views started before asOf are as of asOf."
)


def for_range(zone: str, interval: str, viewers_exact: bool) -> dict[str, str]:
    """The definitions of a report over a range (a video's analytics, the overview)."""
    return {
        "views": VIEW,
        "uniqueViewers": unique_viewers(viewers_exact),
        "pointUniqueViewers": VIEWER_PER_POINT,
        "watchTime": WATCH_TIME,
        "averageWatchTime": AVERAGE,
        "completion": COMPLETION,
        "events": EVENTS,
        "points": POINTS[interval].format(zone=zone),
        "peakConcurrentViewers": PEAK,
        "asOf": AS_OF,
        "qoe": QOE,
        **qoe_definitions(),
    }


QOE = (
    "qoe holds the range's quality of experience and each point's (byDay or byHour), from the measurements "
    "players send with heartbeats (first startup time and error, largest stall counters of each view)."
)


def qoe_definitions() -> dict[str, str]:
    """One sentence per quality-of-experience metric of the registry."""
    return {item.name: item.definition for item in metrics.qoe_metrics()}


def for_breakdown(by: str, metric: str, zone: str, viewers_exact: bool | None) -> dict[str, str]:
    """The definitions of a breakdown: its dimension, its metric, the range and the values not known."""
    chosen = metrics.metric(metric)
    described = unique_viewers(viewers_exact, BREAKDOWNS) if viewers_exact is not None else chosen.definition
    return {
        "by": metrics.dimension(by).definition,
        "value": metrics.NOT_KNOWN,
        metric: described,
        "views": VIEW,
        "points": (
            f"Rows count the views started in the calendar days of {zone} (tz) of the range, bots excluded, "
            "largest first."
        ),
        "asOf": AS_OF,
    }


PEAK = (
    "peakConcurrentViewers is a point's busiest minute: views live during it, a view being live from its start "
    "to its last view, event or heartbeat (with includeTeam, the larger of the two groups' peaks)."
)
LIVE = (
    f"A viewer is live while its last view, event or heartbeat is at most {LIVE_SECONDS} seconds old and it has "
    "not left (a heartbeat with ended: true, sent on the video's end and when the page goes away, or a complete "
    f"event, ends a view at once); views started more than {LIVE_HORIZON_HOURS} hours ago and bots are not counted."
)
RETENTION = (
    "Each point is a hundredth of the video: viewers are the views that played any part of it (the span "
    "between two position samples of a view counts when the position advanced by about the time that passed; "
    "a seek fills nothing), ratio is viewers / views. Views are those started in the UTC days of the range."
)


def for_top() -> dict[str, str]:
    return {
        "views": VIEW,
        "uniqueViewers": VIEWER_TOP,
        "watchTime": WATCH_TIME,
        "completion": COMPLETION,
        "asOf": AS_OF,
    }


def for_live() -> dict[str, str]:
    return {"concurrentViewers": LIVE, "views": VIEW}


def for_retention() -> dict[str, str]:
    return {"views": VIEW, "points": RETENTION, "asOf": AS_OF}
