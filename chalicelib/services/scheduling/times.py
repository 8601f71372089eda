"""Times and names of scheduled actions: what an admin's date-time means, and what Scheduler is told.

Pure rules, no I/O: IANA zone lookup, wall-clock parsing with daylight-saving
gaps (422) and overlaps (first occurrence), the allowed window (at least one
minute, at most five years ahead), the ``at()`` expression written for an
instant (in UTC when the wall time is ambiguous) and read back, and the
``video-<id>-<action>`` schedule name. Everything here is validated before any
emulator or AWS sees it, because the emulators accept what AWS rejects.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.config import get_settings
from chalicelib.domain.errors import InvalidInput, Unprocessable
from chalicelib.domain.timestamps import iso_utc
from chalicelib.services import timezones

# Scheduler fires within the minute of its at() time; anything sooner than this is "now", not a schedule.
MIN_LEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=5 * 366)
NAME_PATTERN = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
SCHEDULE_NAME_PATTERN = re.compile(r"^video-(\d+)-(publish|unpublish)$")
MAX_TIME_TEXT = 64
# Instants outside these years are refused before any arithmetic (which would overflow
# near year 1 or 9999); the scheduling window is five years anyway.
MIN_YEAR, MAX_YEAR = 1970, 2199


def resolve_zone(name: str | None) -> tuple[str, ZoneInfo]:
    """The canonical IANA zone for ``name`` (the configured default when omitted); unknown → 400.

    A link is accepted and replaced by its canonical zone, which is what is stored and
    sent to Scheduler.
    """
    return timezones.resolve(name if name is not None else get_settings().schedule_default_timezone)


def parse_instant(raw: str, zone: ZoneInfo, field: str) -> datetime:
    """The UTC instant an admin meant, to the second.

    With an offset or ``Z`` the text is an absolute instant. Without one it is
    wall-clock time in ``zone``: a time inside a spring-forward gap does not exist
    (422; detected because it does not survive a round trip through UTC), and an
    ambiguous fall-back time takes its first occurrence (``fold=0``).
    """
    text = raw.strip()
    if not text or len(text) > MAX_TIME_TEXT:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time, e.g. 2030-01-15T09:00") from exc
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput(f"{field} must be between {MIN_YEAR} and {MAX_YEAR}")
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=zone, fold=0)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != parsed:
            raise Unprocessable(f"{field} {text} does not exist in {zone.key} (clocks skip it for daylight saving)")
        parsed = local
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError as exc:
        raise Unprocessable(f"{field} is out of range") from exc


def check_window(instant: datetime, now: datetime, field: str) -> None:
    if instant < now + MIN_LEAD:
        raise Unprocessable(f"{field} must be at least one minute in the future")
    if instant > now + MAX_AHEAD:
        raise Unprocessable(f"{field} must be within five years")


def is_ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time occurs twice in ``zone`` (the hour clocks go back)."""
    naive = wall.replace(tzinfo=None)
    return naive.replace(tzinfo=zone, fold=0).utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset()


def at_expression(instant: datetime, zone_name: str) -> tuple[str, str]:
    """``(ScheduleExpression, ScheduleExpressionTimezone)`` for a one-shot schedule.

    The wall time in the admin's zone, except when that wall time is ambiguous
    (it occurs twice on the fall-back night): AWS does not document which
    occurrence an ``at()`` then means, so the same instant is written in UTC.
    """
    zone = ZoneInfo(zone_name)
    local = instant.astimezone(zone)
    if is_ambiguous(local, zone):
        local, zone_name = instant.astimezone(UTC), "UTC"
    return f"at({local:%Y-%m-%dT%H:%M:%S})", zone_name


def parse_at_expression(expression: str, zone_name: str | None) -> datetime | None:
    """The UTC instant of an ``at()`` expression (None for rate/cron); used by reconcile and the dispatcher."""
    match = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", expression.strip())
    if match is None:
        return None
    zone = ZoneInfo(zone_name or "UTC")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone, fold=0).astimezone(UTC)


def iso(instant: datetime) -> str:
    """The wire format of ``scheduledFor`` (see :mod:`chalicelib.domain.timestamps`)."""
    return iso_utc(instant)


def schedule_name(video_id: int, action: str) -> str:
    name = f"video-{video_id}-{action}"
    if not NAME_PATTERN.match(name):  # cannot happen for valid ids; never send AWS a name it rejects
        raise InvalidInput("Invalid schedule name")
    return name
