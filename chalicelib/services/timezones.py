"""IANA time zones the service accepts, by canonical name: for schedules (EventBridge Scheduler
evaluates them) and for analytics days (a report's calendar days are a zone's days)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import InvalidInput

# In the tz database but not zones anyone evaluates dates in.
_NOT_ZONES = frozenset({"Factory"})
# A link in recent tz databases (to Etc/UTC), but the name AWS itself documents and defaults to.
_KEPT_AS_GIVEN = frozenset({"UTC"})


@cache
def canonical_zones() -> dict[str, str]:
    """Every accepted IANA name, mapped to its canonical zone.

    Read from the ``tzdata`` package's ``tzdata.zi`` (``Z`` lines are zones, ``L``
    lines links such as ``US/Eastern`` → ``America/New_York`` or a browser's
    ``Asia/Calcutta`` → ``Asia/Kolkata``). Names that only exist as files
    (``posix/...``, ``right/...``, ``localtime``, ``posixrules``) are not zones and
    are refused.
    """
    from importlib import resources

    text = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text(encoding="utf-8")
    zones: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "Z" and fields[1] not in _NOT_ZONES:
            zones[fields[1]] = fields[1]
        elif len(fields) >= 3 and fields[0] == "L":
            links.append((fields[1], fields[2]))
    for target, link in links:
        if target in zones:
            zones.setdefault(link, link if link in _KEPT_AS_GIVEN else target)
    return zones


def resolve(name: str, field: str = "timezone") -> tuple[str, ZoneInfo]:
    """``(canonical name, zone)`` for an IANA name or link; anything else is a 400."""
    canonical = canonical_zones().get(name.strip())
    if canonical is None:
        raise InvalidInput(f"Unknown {field} {name[:64]!r}: use a canonical IANA name such as Europe/Berlin")
    return canonical, ZoneInfo(canonical)
