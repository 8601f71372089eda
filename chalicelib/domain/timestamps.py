"""The service's one wire format for instants.

ISO 8601 in UTC, millisecond precision, ``Z`` suffix: used in every JSON answer
and in the input of Scheduler schedules, whose handler compares the instant it
receives with the video's pending one, so both sides must format alike.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(instant: datetime) -> str:
    """``2026-11-26T08:00:00.000Z``; a naive value is taken to be UTC already."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
