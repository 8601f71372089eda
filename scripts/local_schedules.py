"""The local stand-in for EventBridge rules: runs the app's ``@schedule`` functions under ``make dev``.

Neither emulator runs Lambda functions or fires EventBridge rules, so without this
``refresh_video_analytics``, ``analytics_retention`` and ``reconcile_video_schedules``
never run locally and stored analytics figures never move. The functions are
discovered from the Chalice app itself (``app.event_sources``), so a new
``@app.schedule`` is picked up without touching this file, and each one is invoked
exactly as Lambda would for a scheduled rule: ``app.handler_map[name](event, context)``
with the real "Scheduled Event" payload and a ``chalice.local.LambdaContext``.

Local cadence (differs from AWS on purpose):

* a ``rate()`` longer than :data:`LOCAL_RATE_CAP` (60 s) runs every 60 s locally, so the
  5-minute analytics refresh moves figures at least every minute while you click
  around; the functions are idempotent, so running them more often is harmless;
* a ``cron()`` runs at its real UTC times (the daily retention at 03:15 UTC);
* on start (the runner's first tick) every ``rate()`` function runs once at once, so a
  fresh ``make dev`` computes figures immediately; ``cron()`` ones wait for their time;
* a failure is logged and does not stop the others; the function is retried at its
  next fire time, not immediately (a broken function must not spin every tick).

Expressions are parsed here rather than trusted blindly: ``rate(N minute|minutes|hour|
hours|day|days)`` and the AWS six-field ``cron(min hour day-of-month month day-of-week
year)`` with numbers, ``*``, ``?``, lists, ranges, steps (``*/n``, ``a-b/n``, ``a/n``) and
names (``JAN``-``DEC``, ``SUN``-``SAT``; day-of-week 1 is Sunday, as in AWS). The special
characters ``L``, ``W`` and ``#`` raise :class:`ScheduleExpressionError` instead of being
approximated.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.app import ScheduleExpression

# Every rate() runs at least this often under make dev.
LOCAL_RATE_CAP = timedelta(seconds=60)
# moto's default account; only used to build the rule ARN in the event.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_STAGE = "local"
PROJECT_DIR = Path(__file__).resolve().parent.parent
MINUTE = timedelta(minutes=1)
# The last year AWS cron accepts; no fire time is searched beyond it.
CRON_MAX_YEAR = 2199


class ScheduleExpressionError(ValueError):
    """A schedule expression that is invalid or uses a form this local runner does not support."""


# --- rate() ------------------------------------------------------------------------------

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class RateSchedule:
    """``rate(N unit)``. AWS anchors it to the rule's creation; locally it runs every
    :attr:`local_interval` from the previous run."""

    interval: timedelta

    @property
    def local_interval(self) -> timedelta:
        return min(self.interval, LOCAL_RATE_CAP)

    def next_fire(self, after: datetime) -> datetime:
        """The next local run after ``after`` (a run at ``after``)."""
        return _utc(after) + self.local_interval


def parse_rate(expression: str) -> RateSchedule:
    """Parse ``rate(N unit)``; AWS wants the singular unit for 1 and the plural otherwise."""
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise ScheduleExpressionError(f"not a rate(N minute(s)|hour(s)|day(s)) expression: {expression!r}")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ScheduleExpressionError(f"rate value must be positive: {expression!r}")
    if (value == 1) == unit.endswith("s"):
        raise ScheduleExpressionError(f"rate unit must be singular for 1 and plural otherwise: {expression!r}")
    return RateSchedule(value * _RATE_UNITS[unit.rstrip("s")])


# --- cron() ------------------------------------------------------------------------------

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_PART = re.compile(r"(?P<start>\*|[A-Z0-9]+)(?:-(?P<end>[A-Z0-9]+))?(?:/(?P<step>[0-9]+))?")


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: Mapping[str, int]
    allows_question_mark: bool = False


_FIELDS = (
    _FieldSpec("minutes", 0, 59, {}),
    _FieldSpec("hours", 0, 23, {}),
    _FieldSpec("day-of-month", 1, 31, {}, allows_question_mark=True),
    _FieldSpec("month", 1, 12, {name: index + 1 for index, name in enumerate(_MONTHS)}),
    _FieldSpec("day-of-week", 1, 7, {name: index + 1 for index, name in enumerate(_DAYS)}, allows_question_mark=True),
    _FieldSpec("year", 1970, CRON_MAX_YEAR, {}),
)


@dataclass(frozen=True)
class CronSchedule:
    """An AWS cron in UTC. ``None`` for day-of-month or day-of-week is ``?`` (no constraint)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    years: frozenset[int]

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after`` (UTC, whole minute); ``None`` if there is
        none up to :data:`CRON_MAX_YEAR` (e.g. a year list all in the past)."""
        start = _utc(after).replace(second=0, microsecond=0) + MINUTE
        day = start.date()
        while day.year <= CRON_MAX_YEAR:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
            elif day.month not in self.months:
                day = _first_of_next_month(day)
            else:
                found = self._first_time_on(day, start) if self._day_matches(day) else None
                if found is not None:
                    return found
                day += timedelta(days=1)
        return None

    def _day_matches(self, day: date) -> bool:
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        aws_weekday = (day.weekday() + 1) % 7 + 1  # Python: Monday 0; AWS: Sunday 1 .. Saturday 7
        return self.days_of_week is None or aws_weekday in self.days_of_week

    def _first_time_on(self, day: date, start: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                if candidate >= start:
                    return candidate
        return None


def parse_cron(expression: str) -> CronSchedule:
    """Parse ``cron(min hour day-of-month month day-of-week year)`` (AWS's six fields)."""
    text = expression.strip()
    if not (text.startswith("cron(") and text.endswith(")")):
        raise ScheduleExpressionError(f"not a cron(...) expression: {expression!r}")
    fields = text[len("cron(") : -1].split()
    if len(fields) != len(_FIELDS):
        raise ScheduleExpressionError(f"AWS cron needs 6 fields, got {len(fields)}: {expression!r}")
    minutes, hours, dom, months, dow, years = (
        _parse_field(field.upper(), spec, expression) for field, spec in zip(fields, _FIELDS, strict=True)
    )
    if (dom is None) == (dow is None):
        raise ScheduleExpressionError(f"exactly one of day-of-month and day-of-week must be '?': {expression!r}")
    assert minutes is not None and hours is not None and months is not None and years is not None
    return CronSchedule(minutes, hours, dom, months, dow, years)


def _parse_field(text: str, spec: _FieldSpec, expression: str) -> frozenset[int] | None:
    if text == "?":
        if not spec.allows_question_mark:
            raise ScheduleExpressionError(f"'?' is only allowed in day-of-month/day-of-week: {expression!r}")
        return None
    values: set[int] = set()
    for part in text.split(","):
        values |= _parse_part(part, spec, expression)
    return frozenset(values)


def _parse_part(part: str, spec: _FieldSpec, expression: str) -> set[int]:
    """One list item: ``*``, ``a``, ``a-b``, each optionally ``/step`` (``a/n`` runs from a to the top)."""
    match = _PART.fullmatch(part)
    if match is None:
        raise _unsupported(part, spec, expression)
    step = int(match.group("step") or 1)
    if step < 1:
        raise ScheduleExpressionError(f"{spec.name} step must be positive in {part!r}: {expression!r}")
    if match.group("start") == "*":
        if match.group("end") is not None:
            raise _unsupported(part, spec, expression)
        low, high = spec.low, spec.high
    else:
        low = _value(match.group("start"), spec, expression)
        default_high = spec.high if match.group("step") else low
        high = _value(match.group("end"), spec, expression) if match.group("end") else default_high
    if low > high:
        raise ScheduleExpressionError(
            f"{spec.name} range {part!r} runs backwards (wrap-around is not supported): {expression!r}"
        )
    return set(range(low, high + 1, step))


def _value(token: str, spec: _FieldSpec, expression: str) -> int:
    if token in spec.names:
        return spec.names[token]
    if not token.isdigit():
        raise _unsupported(token, spec, expression)
    value = int(token)
    if not spec.low <= value <= spec.high:
        raise ScheduleExpressionError(f"{spec.name} value {value} is outside {spec.low}-{spec.high}: {expression!r}")
    return value


def _unsupported(token: str, spec: _FieldSpec, expression: str) -> ScheduleExpressionError:
    if "#" in token or token.strip("0123456789") in {"L", "W", "LW"}:
        return ScheduleExpressionError(
            f"{spec.name} {token!r} uses L, W or #, which the local scheduler does not support: {expression!r}"
        )
    return ScheduleExpressionError(f"{spec.name} {token!r} is not a supported cron value: {expression!r}")


# --- both --------------------------------------------------------------------------------

Schedule = RateSchedule | CronSchedule


def expression_text(expression: str | ScheduleExpression) -> str:
    """Chalice accepts a string or a ``Rate``/``Cron`` object; both become the AWS string."""
    return expression if isinstance(expression, str) else expression.to_string()


def parse_expression(expression: str | ScheduleExpression) -> Schedule:
    """Parse a ``rate()`` or ``cron()`` schedule expression (string or Chalice object)."""
    text = expression_text(expression).strip()
    if text.startswith("rate("):
        return parse_rate(text)
    if text.startswith("cron("):
        return parse_cron(text)
    raise ScheduleExpressionError(f"expected rate(...) or cron(...): {text!r}")


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"a timezone-aware instant is required, got {instant!r}")
    return instant.astimezone(UTC)


def _first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


# --- the app's scheduled functions -------------------------------------------------------


@dataclass(frozen=True)
class ScheduledFunction:
    """One ``@app.schedule`` function: its Lambda name, AWS expression and parsed schedule."""

    name: str
    expression: str
    schedule: Schedule


def discover(app: Chalice | None = None) -> list[ScheduledFunction]:
    """Every scheduled function of the Chalice app (``app.py``'s by default), in declaration order."""
    from chalice.app import ScheduledEventConfig

    app = app or _default_app()
    return [
        ScheduledFunction(
            source.name, expression_text(source.schedule_expression), parse_expression(source.schedule_expression)
        )
        for source in app.event_sources
        if isinstance(source, ScheduledEventConfig)
    ]


def _default_app() -> Chalice:
    from app import app

    return app


@dataclass(frozen=True)
class FunctionLimits:
    """Memory and timeout a Lambda would get; the context's remaining time comes from the timeout
    (``analytics_retention`` sizes its work budget from it)."""

    memory_mb: int
    timeout_seconds: int


def function_limits(name: str, stage: str = LOCAL_STAGE) -> FunctionLimits:
    """Limits from ``.chalice/config.json`` for ``stage``, else Chalice's deploy defaults (128 MB, 60 s)."""
    from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT

    memory, timeout = _configured_limits(name, stage)
    return FunctionLimits(memory or DEFAULT_LAMBDA_MEMORY_SIZE, timeout or DEFAULT_LAMBDA_TIMEOUT)


def _configured_limits(name: str, stage: str) -> tuple[int | None, int | None]:
    """Read on each call, so an edit of the config applies at the next run; unreadable → no limits."""
    from chalice.cli.factory import CLIFactory

    try:
        scoped = CLIFactory(str(PROJECT_DIR)).create_config_obj(chalice_stage_name=stage).scope(stage, name)
    except (RuntimeError, ValueError, OSError):
        return None, None
    return scoped.lambda_memory_size, scoped.lambda_timeout


def scheduled_event(
    function_name: str, at: datetime, *, app_name: str, stage: str, region: str, account: str = LOCAL_ACCOUNT_ID
) -> dict[str, Any]:
    """The payload EventBridge delivers to a scheduled rule's Lambda target (rule named as Chalice names it)."""
    rule = f"{app_name}-{stage}-{function_name}-event"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule}"],
        "detail": {},
    }


class LocalScheduleRunner:
    """Decides which scheduled functions are due and runs them in-process, as Lambda would.

    Time is always passed in (``now``), so tests never sleep. The first call to
    :meth:`due` or :meth:`run_due` is the start: every ``rate()`` function is due then,
    each ``cron()`` one at its next real time.
    """

    def __init__(
        self,
        functions: Iterable[ScheduledFunction] | None = None,
        *,
        app: Chalice | None = None,
        stage: str = LOCAL_STAGE,
        region: str | None = None,
        account: str = LOCAL_ACCOUNT_ID,
    ) -> None:
        self._app = app or _default_app()
        chosen = discover(self._app) if functions is None else functions
        self.functions = {function.name: function for function in chosen}
        self._stage = stage
        self._region = region
        self._account = account
        self._next: dict[str, datetime | None] | None = None

    def due(self, now: datetime) -> list[str]:
        """Names of the functions whose fire time has come, in declaration order."""
        schedule = self._schedule(now)
        return [name for name, at in schedule.items() if at is not None and at <= now]

    def next_fire_times(self, now: datetime) -> dict[str, datetime | None]:
        """When each function runs next (``None``: never again); for logs and tests."""
        return dict(self._schedule(now))

    def run_due(self, now: datetime) -> dict[str, bool]:
        """Run every due function once; returns name → whether it succeeded.

        Success or failure, the function's next fire time is computed from ``now``:
        a failure is retried then, never in a tight loop.
        """
        schedule = self._schedule(now)
        outcomes: dict[str, bool] = {}
        for name in self.due(now):
            outcomes[name] = self._invoke(name, now)
            schedule[name] = self.functions[name].schedule.next_fire(now)
        return outcomes

    def _schedule(self, now: datetime) -> dict[str, datetime | None]:
        if self._next is None:
            self._next = {name: _first_fire(function.schedule, now) for name, function in self.functions.items()}
        return self._next

    def _invoke(self, name: str, now: datetime) -> bool:
        """One Lambda invocation; an exception is logged, never raised, so the others still run."""
        try:
            result = self._app.handler_map[name](self._event(name, now), self._context(name))
        except Exception:  # noqa: BLE001 - one failing function must not stop the others
            logger.exception("Scheduled function failed", extra={"function": name})
            return False
        logger.info("Ran scheduled function", extra={"function": name, "result": result})
        return True

    def _event(self, name: str, now: datetime) -> dict[str, Any]:
        return scheduled_event(
            name, now, app_name=self._app.app_name, stage=self._stage, region=self._region_name(), account=self._account
        )

    def _region_name(self) -> str:
        if self._region is not None:
            return self._region
        from chalicelib.config import get_settings

        return get_settings().aws_region

    def _context(self, name: str) -> Any:
        from chalice.local import LambdaContext

        limits = function_limits(name, self._stage)
        return LambdaContext(name, memory_size=limits.memory_mb, max_runtime_ms=limits.timeout_seconds * 1000)


def _first_fire(schedule: Schedule, start: datetime) -> datetime | None:
    """rate(): right away, so a fresh ``make dev`` has figures at once; cron(): its next real time."""
    return _utc(start) if isinstance(schedule, RateSchedule) else schedule.next_fire(start)
