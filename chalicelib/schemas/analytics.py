"""Admin analytics: per-video reports, registered viewers, stored aggregates, top videos, overview."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, create_model
from pydantic.alias_generators import to_snake
from pydantic_core import PydanticCustomError

from chalicelib.domain import metrics
from chalicelib.domain.events import EVENT_TYPES
from chalicelib.schemas.base import Answer, Query, Success
from chalicelib.web.inputs import Instant, QueryDate, QueryInt

TopMetric = Literal["views", "watchTime"]
Interval = Literal["day", "hour"]


def _canonical_zone(name: str) -> str:
    from chalicelib.services.timezones import canonical_zones

    canonical = canonical_zones().get(name.strip())
    if canonical is None:
        raise PydanticCustomError("time_zone", "must be an IANA time zone name such as Europe/Berlin")
    return canonical


TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, description="IANA time zone whose calendar days the report uses."),
    AfterValidator(_canonical_zone),
]
IncludeTeam = Annotated[
    bool, Field(alias="includeTeam", description="Count views recorded with an admin token (team views) too.")
]


class TeamQuery(Query):
    include_team: IncludeTeam = False


class OverviewQuery(TeamQuery):
    tz: TimeZone = "UTC"


class RangeQuery(OverviewQuery):
    start_date: QueryDate | None = Field(
        default=None, alias="startDate", description="First local day (default: the day of the first view)."
    )
    end_date: QueryDate | None = Field(
        default=None, alias="endDate", description="Last local day, inclusive (default: today in tz)."
    )
    interval: Interval = Field(
        default="day", description="Points per day, or per hour (a range of at most 7 days; default the last 7)."
    )


def _registered(kind: str, names: Any) -> Any:
    """A validator accepting the registry's names of the moment (a dimension added later included)."""

    def check(name: str) -> str:
        known = [item.name for item in names()]
        if name not in known:
            raise PydanticCustomError(kind, "must be one of {known}", {"known": ", ".join(known)})
        return name

    return AfterValidator(check)


ByDimension = Annotated[
    str,
    Field(
        description="The dimension whose values the rows are (see definitions.by).",
        json_schema_extra={"enum": [item.name for item in metrics.DIMENSIONS]},
    ),
    _registered("dimension", lambda: metrics.DIMENSIONS),
]
MetricName = Annotated[
    str,
    Field(
        description="The figure each row holds, under its own name.",
        json_schema_extra={"enum": [item.name for item in metrics.METRICS]},
    ),
    _registered("metric", lambda: metrics.METRICS),
]


class BreakdownQuery(OverviewQuery):
    by: ByDimension
    metric: MetricName = "views"
    start_date: QueryDate | None = Field(
        default=None, alias="startDate", description="First local day (default: the day of the first view)."
    )
    end_date: QueryDate | None = Field(
        default=None, alias="endDate", description="Last local day, inclusive (default: today in tz)."
    )


class LiveQuery(TeamQuery):
    limit: QueryInt = Field(default=100, ge=1, le=1000)


class RetentionQuery(TeamQuery):
    start_date: QueryDate | None = Field(
        default=None, alias="startDate", description="First UTC day of view starts (default: the first view's)."
    )
    end_date: QueryDate | None = Field(default=None, alias="endDate", description="Last UTC day (default: today).")


class ViewersQuery(TeamQuery):
    limit: QueryInt = Field(default=1000, ge=1, le=1000)


class TopQuery(TeamQuery):
    metric: TopMetric = "views"
    limit: QueryInt = Field(default=10, ge=1, le=100)


class Totals(Answer):
    total_views: int
    unique_viewers: int
    unique_viewers_exact: bool = Field(description="False when uniqueViewers is a HyperLogLog estimate.")
    total_watch_time_seconds: int
    average_watch_time_seconds: float
    completion_rate: float = Field(description="Percent of views completed, 0-100.")
    completed_views: int


def _event_counts_model() -> Any:
    """One integer per event type, in the order of ``chalicelib.domain.events`` (the one list of them)."""
    fields: dict[str, Any] = {kind: (int, ...) for kind in EVENT_TYPES}
    return create_model("EventCounts", __base__=Answer, **fields)


EventCounts = _event_counts_model()


def _metric_field(item: metrics.Metric) -> tuple[Any, Any]:
    kind: Any = int if item.integer else float
    if not item.always:
        kind = kind | None
    return kind, Field(alias=item.name, description=item.definition)


def _qoe_model(name: str, base: Any, **extra: Any) -> Any:
    """A model with one field per quality-of-experience metric of the registry (and ``extra``)."""
    fields: dict[str, Any] = {to_snake(item.name): _metric_field(item) for item in metrics.qoe_metrics()}
    return create_model(name, __base__=base, **extra, **fields)


class Point(Answer):
    views: int
    unique_viewers: int
    unique_viewers_exact: bool
    watch_time_seconds: int
    completed_views: int
    peak_concurrent_viewers: int = Field(description="The point's busiest minute (see definitions).")


class DayPoint(Point):
    date: date


class HourPoint(Point):
    hour: Instant = Field(description="The hour's start in local time, with its UTC offset.")


QoeFigures = _qoe_model("QoeFigures", Answer)
QoeDay = _qoe_model("QoeDay", QoeFigures, date=(date, ...))
QoeHour = _qoe_model(
    "QoeHour", QoeFigures, hour=(Instant, Field(description="The hour's start in local time, with its UTC offset."))
)


class Qoe(QoeFigures):  # type: ignore[misc,valid-type]
    """Quality of experience over the range, and per point (see definitions)."""

    by_day: list[QoeDay] = Field(description="One point per local day (empty when interval=hour).")  # type: ignore[valid-type]
    by_hour: list[QoeHour] = Field(description="One point per local hour (empty when interval=day).")  # type: ignore[valid-type]


class Referrer(Answer):
    referer: str
    views: int


class Reported(Answer):
    """What every analytics answer says about itself."""

    as_of: Instant = Field(description="Freshness of the roll-ups the figures come from (see definitions.asOf).")
    definitions: dict[str, str] = Field(description="One sentence per figure: what it counts, exact or estimated.")


class RangeReported(Reported):
    tz: str
    interval: Interval
    include_team: bool


class LibraryAnalytics(Totals, RangeReported):
    event_counts: EventCounts  # type: ignore[valid-type]
    views_by_day: list[DayPoint] = Field(description="One point per local day (empty when interval=hour).")
    views_by_hour: list[HourPoint] = Field(description="One point per local hour (empty when interval=day).")
    qoe: Qoe


class VideoAnalytics(LibraryAnalytics):
    video_id: int
    top_referrers: list[Referrer]


class RegisteredViewer(Answer):
    user_id: int
    name: str | None
    email: str | None
    views: int
    watch_time_seconds: int
    last_viewed_at: Instant


class RegisteredViewers(Answer):
    viewers: list[RegisteredViewer]


class VideoTotals(Totals):
    video_id: int


class Aggregated(Success):
    analytics: VideoTotals


class TopVideo(Answer):
    id: int
    title: str | None
    views: int
    unique_viewers: int
    watch_time_seconds: int
    completion_rate: float


class TopVideos(Reported):
    metric: TopMetric
    include_team: bool
    videos: list[TopVideo]


class Overview(Totals, RangeReported):
    total_videos: int
    published_videos: int
    views_last_24h: int = Field(alias="viewsLast24h")
    views_last_7d: int = Field(alias="viewsLast7d")
    views_last_30d: int = Field(alias="viewsLast30d")
    views_by_day: list[DayPoint]
    qoe: Qoe


class VideoLive(Reported):
    video_id: int
    concurrent_viewers: int


class LiveVideo(Answer):
    id: int
    title: str | None
    concurrent_viewers: int


class LibraryLive(Reported):
    concurrent_viewers: int
    videos: list[LiveVideo] = Field(description="Videos with live viewers, busiest first.")


class RetentionPoint(Answer):
    percent: int = Field(ge=0, le=99, description="The hundredth of the video: [percent, percent + 1)% of it.")
    viewers: int
    ratio: float = Field(description="viewers / views, 0-1 (4 decimals).")


class Retention(Reported):
    video_id: int
    duration: int
    views: int
    start_date: date
    end_date: date
    points: list[RetentionPoint]


class BreakdownRow(Answer):
    """A value and its figure, under the metric's own name (``{"value": "DE", "views": 12}``)."""

    model_config = ConfigDict(extra="allow")

    value: str | None = Field(description="The dimension's value; null: not known (see definitions.value).")


class Breakdown(Reported):
    by: str
    metric: str
    start_date: date
    end_date: date
    tz: str
    include_team: bool
    rows: list[BreakdownRow] = Field(description="One row per value, largest figure first (nulls last).")
