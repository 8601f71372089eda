"""The local stand-in for EventBridge rules (scripts/local_schedules.py): expression parsing, next fire
times, discovery from the app, and the runner's timing. Every instant is passed in, so nothing waits for a clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scripts.local_schedules import (
    CronSchedule,
    LocalScheduleRunner,
    RateSchedule,
    ScheduledFunction,
    ScheduleExpressionError,
    discover,
    parse_cron,
    parse_expression,
    parse_rate,
)

START = datetime(2026, 5, 1, 3, 14, 30, tzinfo=UTC)  # a Friday, 30 s before the daily retention


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, after: datetime, count: int = 1) -> list[datetime | None]:
    """The next ``count`` fire times of a cron after ``after``."""
    schedule = parse_cron(expression)
    times: list[datetime | None] = []
    current: datetime | None = after
    for _ in range(count):
        assert current is not None
        current = schedule.next_fire(current)
        times.append(current)
    return times


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_rate_parses_and_is_capped_at_a_minute_locally(expression: str, interval: timedelta) -> None:
    schedule = parse_rate(expression)
    assert schedule == RateSchedule(interval)
    assert schedule.local_interval == timedelta(seconds=60)
    assert schedule.next_fire(START) == START + timedelta(seconds=60)


@pytest.mark.parametrize(
    "expression",
    ["rate(5 minute)", "rate(1 minutes)", "rate(0 minutes)", "rate(5 seconds)", "rate(five minutes)", "rate(5)"],
)
def test_invalid_rates_raise(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_rate(expression)


def test_daily_retention_cron_fires_at_0315_utc() -> None:
    assert fires("cron(15 3 * * ? *)", at("2026-05-01T03:14:59")) == [at("2026-05-01T03:15:00")]
    # Strictly after: the fire instant itself and anything later that day roll to tomorrow.
    assert fires("cron(15 3 * * ? *)", at("2026-05-01T03:15:00"), 2) == [
        at("2026-05-02T03:15:00"),
        at("2026-05-03T03:15:00"),
    ]
    assert fires("cron(15 3 * * ? *)", at("2026-12-31T23:59:00")) == [at("2027-01-01T03:15:00")]


def test_next_fire_is_in_utc_whatever_the_zone_of_the_instant() -> None:
    from zoneinfo import ZoneInfo

    lisbon_summer = datetime(2026, 5, 1, 4, 14, tzinfo=ZoneInfo("Europe/Lisbon"))  # 03:14 UTC
    assert parse_cron("cron(15 3 * * ? *)").next_fire(lisbon_summer) == at("2026-05-01T03:15:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_cron("cron(15 3 * * ? *)").next_fire(datetime(2026, 5, 1))


def test_steps_ranges_and_lists() -> None:
    # Every 15 minutes (AWS's own a/n example), 09-17 UTC, weekdays.
    assert fires("cron(0/15 9-17 ? * MON-FRI *)", at("2026-05-01T17:40:00"), 3) == [
        at("2026-05-01T17:45:00"),
        at("2026-05-04T09:00:00"),  # Friday evening → Monday morning
        at("2026-05-04T09:15:00"),
    ]
    schedule = parse_cron("cron(5,35 */6 1-10/3 * ? *)")
    assert schedule.minutes == {5, 35}
    assert schedule.hours == {0, 6, 12, 18}
    assert schedule.days_of_month == {1, 4, 7, 10}
    assert schedule.days_of_week is None
    assert fires("cron(5,35 */6 1-10/3 * ? *)", at("2026-05-10T18:35:00")) == [at("2026-06-01T00:05:00")]
    assert parse_cron("cron(10-50/20 * * * ? *)").minutes == {10, 30, 50}


def test_named_and_numbered_days_and_months() -> None:
    weekend = parse_cron("cron(0 12 ? * SAT,SUN *)")
    assert weekend.days_of_week == {7, 1}  # AWS: 1 is Sunday, 7 Saturday
    assert fires("cron(0 12 ? * SAT,SUN *)", START, 3) == [
        at("2026-05-02T12:00:00"),
        at("2026-05-03T12:00:00"),
        at("2026-05-09T12:00:00"),
    ]
    assert fires("cron(0 0 ? * 1 *)", START) == [at("2026-05-03T00:00:00")]  # a Sunday
    assert fires("cron(0 0 ? * mon *)", START) == [at("2026-05-04T00:00:00")]
    assert fires("cron(0 0 1 JAN,JUL ? *)", START, 2) == [at("2026-07-01T00:00:00"), at("2027-01-01T00:00:00")]
    assert parse_cron("cron(0 0 1 MAR-MAY ? *)").months == {3, 4, 5}


def test_sparse_and_exhausted_crons() -> None:
    assert fires("cron(0 0 29 2 ? *)", START) == [at("2028-02-29T00:00:00")]
    assert fires("cron(30 6 1 1 ? 2027-2028)", START, 3) == [
        at("2027-01-01T06:30:00"),
        at("2028-01-01T06:30:00"),
        None,
    ]
    assert parse_cron("cron(0 0 1 1 ? 2020)").next_fire(START) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 0 L * ? *)", "L, W or #"),
        ("cron(0 0 15W * ? *)", "L, W or #"),
        ("cron(0 0 LW * ? *)", "L, W or #"),
        ("cron(0 0 ? * 6#3 *)", "L, W or #"),
        ("cron(0 0 ? * 5L *)", "L, W or #"),
        ("cron(0 0 * * *)", "6 fields"),
        ("cron(0 0 * * * *)", "exactly one"),
        ("cron(0 0 ? * ? *)", "exactly one"),
        ("cron(? 0 * * ? *)", "'?' is only allowed"),
        ("cron(60 0 * * ? *)", "outside 0-59"),
        ("cron(0 24 * * ? *)", "outside 0-23"),
        ("cron(0 0 * 13 ? *)", "outside 1-12"),
        ("cron(0 0 ? * 8 *)", "outside 1-7"),
        ("cron(0 0 ? * SAT-SUN *)", "backwards"),
        ("cron(*/0 0 * * ? *)", "step must be positive"),
        ("cron(0 0 * FOO ? *)", "not a supported"),
        ("cron(*-5 0 * * ? *)", "not a supported"),
        ("at(2026-05-01T03:15:00)", "rate(...) or cron(...)"),
    ],
)
def test_unsupported_or_invalid_crons_raise(expression: str, message: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_expression(expression)


def test_discovery_finds_exactly_the_apps_scheduled_functions() -> None:
    found = {function.name: function for function in discover()}
    assert {name: function.expression for name, function in found.items()} == {
        "refresh_video_analytics": "rate(1 minute)",
        "analytics_retention": "cron(15 3 * * ? *)",
        "reconcile_video_schedules": "rate(15 minutes)",
        "sweep_video_media": "rate(10 minutes)",
    }
    assert found["analytics_retention"].schedule == parse_cron("cron(15 3 * * ? *)")


def test_discovery_accepts_chalice_rate_and_cron_objects() -> None:
    from chalice import Chalice, Cron, Rate

    other = Chalice(app_name="other")

    @other.schedule(Rate(5, unit=Rate.MINUTES), name="every_five")
    def every_five(event: Any) -> None:
        return None

    @other.schedule(Cron(15, 3, "*", "*", "?", "*"), name="nightly")
    def nightly(event: Any) -> None:
        return None

    found = {function.name: function for function in discover(other)}
    assert found["every_five"].expression == "rate(5 minutes)"
    assert found["every_five"].schedule == RateSchedule(timedelta(minutes=5))
    assert isinstance(found["nightly"].schedule, CronSchedule)
    assert found["nightly"].expression == "cron(15 3 * * ? *)"


def test_rates_run_at_start_and_every_minute_crons_at_their_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import app

    calls: list[tuple[str, dict[str, Any], Any]] = []
    for name in ("refresh_video_analytics", "analytics_retention", "reconcile_video_schedules", "sweep_video_media"):
        monkeypatch.setitem(app.handler_map, name, _recorder(name, calls))
    runner = LocalScheduleRunner()
    rates = ["reconcile_video_schedules", "refresh_video_analytics", "sweep_video_media"]

    assert runner.due(START) == rates
    assert runner.run_due(START) == dict.fromkeys(rates, True)
    assert runner.run_due(START + timedelta(seconds=29)) == {}
    assert runner.due(START + timedelta(seconds=30)) == ["analytics_retention"]  # 03:15:00
    assert runner.run_due(START + timedelta(seconds=30)) == {"analytics_retention": True}
    assert runner.next_fire_times(START)["analytics_retention"] == at("2026-05-02T03:15:00")
    assert runner.due(START + timedelta(seconds=60)) == rates
    assert [name for name, _, _ in calls] == [*rates, "analytics_retention"]


def test_invocation_is_a_scheduled_event_with_a_lambda_context(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import app

    calls: list[tuple[str, dict[str, Any], Any]] = []
    monkeypatch.setitem(app.handler_map, "analytics_retention", _recorder("analytics_retention", calls))
    runner = LocalScheduleRunner([_function("analytics_retention")])
    assert runner.run_due(at("2026-05-01T03:14:50")) == {}  # the start: a cron waits for its time
    assert runner.run_due(at("2026-05-01T03:15:07")) == {"analytics_retention": True}

    [(_, event, context)] = calls
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["version"], event["detail-type"], event["source"]) == ("0", "Scheduled Event", "aws.events")
    assert (event["time"], event["region"], event["detail"]) == ("2026-05-01T03:15:07Z", "us-east-1", {})
    assert event["resources"] == [
        f"arn:aws:events:us-east-1:{event['account']}:rule/media-api-local-analytics_retention-event"
    ]
    assert context.function_name == "analytics_retention"
    assert context.memory_limit_in_mb >= 128
    # Lambda's timeout, not chalice.local's 3 s default: retention sizes its work budget from it.
    assert context.get_remaining_time_in_millis() > 30_000


def test_dispatcher_loop_runs_the_scheduled_functions_and_polls_each_queue_on_its_own_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scripts import local_dispatcher

    stop = threading.Event()
    ticks: list[str] = []
    polled: dict[str, str] = {}
    expected = {name for _queue, name in local_dispatcher.queue_functions()}
    monkeypatch.setattr(local_dispatcher, "dispatch_due", lambda: ticks.append("schedules"))
    monkeypatch.setattr(
        local_dispatcher, "dispatch_queue", lambda queue, name: polled.setdefault(name, threading.current_thread().name)
    )

    class OneTick(LocalScheduleRunner):
        def run_due(self, now: datetime) -> dict[str, bool]:
            ticks.append("functions")
            deadline = time.monotonic() + 30
            while set(polled) != expected and time.monotonic() < deadline:
                time.sleep(0.01)
            stop.set()
            return {}

    local_dispatcher.run_forever(stop, interval=0, runner=OneTick([]))
    assert ticks == ["schedules", "functions"]
    assert set(polled) == expected >= {"ingest_uploaded_video", "make_video_thumbnail", "make_video_ladder"}
    assert len(set(polled.values())) == len(expected)  # a long transcode holds up no other queue


def _function(name: str) -> ScheduledFunction:
    [function] = [function for function in discover() if function.name == name]
    return function


def _recorder(name: str, calls: list[tuple[str, dict[str, Any], Any]]) -> Any:
    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append((name, event, context))

    return handler
