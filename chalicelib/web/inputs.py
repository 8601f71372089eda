"""Input types shared by every request model: what a client may send, checked before any
service or database sees it.

Each rule here closes a way client input used to reach PostgreSQL or ``datetime`` and
come back as a 500:

* text never holds control characters or lone surrogates (PostgreSQL cannot store
  NUL in ``text``, and UTF-8 cannot encode a surrogate), nor bidirectional embeddings,
  overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a title or a file name
  display as something other than what it is (``exe.mp4`` shown for ``4pm.exe``). The
  marks U+200E/U+200F (LRM, RLM) stay allowed: right-to-left text needs them, and they
  reorder nothing;
* integers in query strings and paths are ASCII digits only (``str.isdigit`` and
  ``int()`` also accept superscript, Arabic-Indic and fullwidth digits);
* dates are ISO dates within :data:`MIN_DATE`..:data:`MAX_DATE`, so no arithmetic on
  them can overflow.

Errors raised here use pydantic's custom error types listed in
:data:`BAD_REQUEST_ERRORS`, which the request layer answers with 400.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

# C0 controls, DEL, C1 controls, lone UTF-16 surrogates, bidi embeddings, overrides and isolates.
_FORBIDDEN_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
NO_CONTROL_CHARS_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$"
_ASCII_INT = re.compile(r"[0-9]{1,12}")
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2199, 12, 31)
MAX_DB_INT = 2**31 - 1

# Custom pydantic error types that mean "malformed" (400) rather than "wrong value" (422).
BAD_REQUEST_ERRORS = frozenset({"control_characters", "ascii_integer", "date_format", "date_range", "position_range"})


def has_forbidden_chars(value: str) -> bool:
    return _FORBIDDEN_CHARS.search(value) is not None


def strip_forbidden_chars(value: str) -> str:
    """For values the service cleans instead of refusing (user agent, referrer)."""
    return _FORBIDDEN_CHARS.sub("", value)


def check_text(value: str) -> str:
    if has_forbidden_chars(value):
        raise PydanticCustomError(
            "control_characters", "must not contain control characters or bidirectional overrides"
        )
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value


Text = Annotated[str, AfterValidator(check_text), Field(json_schema_extra={"pattern": NO_CONTROL_CHARS_PATTERN})]
"""Free text without control characters (titles, names, search terms, keys)."""

NonBlankText = Annotated[Text, AfterValidator(_not_blank)]
"""Text with at least one non-space character (a title)."""


def parse_ascii_int(value: Any) -> Any:
    """Query and path integers: ASCII digits only, at most 12 of them; JSON numbers pass through."""
    if isinstance(value, str):
        if not _ASCII_INT.fullmatch(value):
            raise PydanticCustomError("ascii_integer", "must be a whole number written with the digits 0-9")
        return int(value)
    return value


QueryInt = Annotated[int, BeforeValidator(parse_ascii_int)]
"""An integer query parameter."""


def parse_day(value: Any) -> Any:
    """A query date: ``YYYY-MM-DD``, or an ISO date-time taken as its UTC day; within range."""
    if isinstance(value, date | datetime):
        return _check_day(value if not isinstance(value, datetime) else value.date())
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            return _check_day(date.fromisoformat(text))
        if len(text) > 40:
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        _check_day(moment.date())  # before any timezone arithmetic, which could overflow
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
    except ValueError as exc:
        raise PydanticCustomError("date_format", "must be an ISO date (YYYY-MM-DD)") from exc


def _check_day(day: date) -> date:
    if not MIN_DATE <= day <= MAX_DATE:
        raise PydanticCustomError(
            "date_range",
            "must be between {low} and {high}",
            {"low": MIN_DATE.isoformat(), "high": MAX_DATE.isoformat()},
        )
    return day


QueryDate = Annotated[
    date,
    BeforeValidator(parse_day),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD (a date-time means its UTC day)"}),
]
"""A date query parameter (``startDate``, ``endDate``)."""

Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""An instant in answers: ISO 8601 UTC with milliseconds and ``Z`` (see :mod:`chalicelib.domain.timestamps`)."""


def _http_url(value: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise PydanticCustomError("url", "must be an http(s) URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("url", "must be an http(s) URL")
    return value


HttpUrl = Annotated[
    Text,
    AfterValidator(_http_url),
    Field(
        max_length=2048,
        json_schema_extra={"format": "uri", "pattern": "^https?://" + NO_CONTROL_CHARS_PATTERN[1:-2] + "+$"},
    ),
]
"""An absolute http(s) URL (an external thumbnail)."""
