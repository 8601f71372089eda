"""Who watched, as analytics keeps it: codes derived at write time, never the raw request.

A view stores its device type, browser family and OS family (from the User-Agent, by
``adapters.user_agents``), its country (the ISO 3166-1 alpha-2 code the edge sends in
``CloudFront-Viewer-Country``); with its referrer's host (read from the stored referrer)
these are the values the breakdowns group by. A value nobody could tell is ``Other`` (device type ``desktop``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal, get_args

DeviceType = Literal["desktop", "mobile", "tablet", "tv", "bot"]
DEVICE_TYPES: tuple[DeviceType, ...] = get_args(DeviceType)
UNKNOWN = "Other"


@dataclass(frozen=True)
class ViewerAgent:
    """What the User-Agent says: the device type, the browser family, the OS family."""

    device: DeviceType
    browser: str
    os: str

    @property
    def is_bot(self) -> bool:
        return self.device == "bot"


@dataclass(frozen=True)
class ViewerContext:
    """Everything a view records about its viewer's situation (all of it derived, none of it identifying)."""

    agent: ViewerAgent | None
    country: str | None


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from the ``iso3166.tab`` that the tzdata package ships."""
    from importlib.resources import files

    text = files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text(encoding="utf-8")
    return frozenset(line[:2] for line in text.splitlines() if line[:2].isalpha() and line[2:3] == "\t")


def country(header: str | None) -> str | None:
    """The viewer's country from the edge's header: an ISO alpha-2 code, else None (``XX``, junk, absent)."""
    if not header:
        return None
    code = header.strip().upper()
    return code if code in country_codes() else None
