"""The User-Agent parser: ua-parser's maintained rules (``ua-parser-builtins``), run by its native
accelerator (``ua-parser-rs``) when installed, reduced to the three codes analytics keeps.

Only the derived codes are stored, never the User-Agent itself. The device *type* is not
one of ua-parser's answers (it names a device family, brand and model), so it is derived
here from them and from the tokens browsers use to say what they run on:

* ``bot``: what ua-parser classifies as a spider (device family ``Spider``: Googlebot,
  Bingbot, ...). HTTP libraries, curl and headless browsers are players like any other;
* ``tv``: smart TVs and streaming sticks (Tizen/webOS TVs, Roku, Apple TV, Fire TV, Chromecast);
* ``tablet``: iPads, Kindles, Android tablets (Android without ``Mobile``, or a tablet brand);
* ``mobile``: anything that says ``Mobi`` (the token every phone browser sends), iPhones, iPods;
* ``desktop``: the rest.

A player sends the same User-Agent with every request, so the answer is remembered per
string (an LRU of :data:`CACHE_SIZE` entries): a parse runs the rules' regular expressions, a hit
is a dictionary lookup.
"""

from __future__ import annotations

import re
from functools import lru_cache

from chalicelib.domain.viewers import UNKNOWN, DeviceType, ViewerAgent

CACHE_SIZE = 4096
FAMILY_MAX_CHARS = 64
_TV = re.compile(
    r"smart-?tv|\bTV\b|googletv|appletv|apple tv|roku|crkey|\bAFT[A-Z]|bravia|hbbtv|web0s|netcast|tizen.+tv", re.I
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (7|9|10)\b", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|windows phone|blackberry|opera mini", re.I)
_TV_FAMILIES = {"AppleTV", "Roku", "Chromecast"}


@lru_cache(maxsize=CACHE_SIZE)
def parse(user_agent: str) -> ViewerAgent:
    """The device type, browser family and OS family of ``user_agent`` (``Other`` when unknown)."""
    import ua_parser

    result = ua_parser.parse(user_agent)
    device = result.device
    browser = _family(result.user_agent.family if result.user_agent else None)
    os = _family(result.os.family if result.os else None)
    return ViewerAgent(_device_type(user_agent, device), browser, os)


def warm_up() -> None:
    """Load and compile the parser's rules now (about 0.2 s), at a cold start's init, not in a request."""
    parse("Mozilla/5.0 (X11; Linux x86_64)")


def _device_type(user_agent: str, device: object | None) -> DeviceType:
    family = str(getattr(device, "family", "") or "")
    brand = str(getattr(device, "brand", "") or "")
    if family == "Spider":
        return "bot"
    if family in _TV_FAMILIES or brand == "Generic_Inettv" or _TV.search(user_agent):
        return "tv"
    if family == "iPad" or brand == "Generic_Android_Tablet" or _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    if "Android" in user_agent:  # an Android browser without "Mobile" is a tablet's (Google's rule)
        return "tablet"
    return "desktop"


def _family(name: str | None) -> str:
    if not name or name == "Other":
        return UNKNOWN
    return name[:FAMILY_MAX_CHARS]
