"""How values look on the wire: ISO 8601 UTC times with ``Z``, ISO dates, numbers as JSON numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from chalicelib.domain import timestamps


def iso_utc(value: datetime | None) -> str | None:
    return None if value is None else timestamps.iso_utc(value)


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def number(value: Decimal | int | float | None) -> int | float:
    """A JSON number: ints stay ints, decimals become floats rounded to 2 places."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return round(float(value), 2)
