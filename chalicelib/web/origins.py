"""Which pages may send tracking data: the frontends CORS lets in, and the API's own pages.

CORS only keeps a page on another site from *reading* answers. A ``no-cors`` fetch or a
``navigator.sendBeacon`` from any page still reaches the API, so the tracking routes check
the sending page themselves: a browser names it in ``Origin`` on every POST (or, when it
sends no ``Origin``, in ``Referer``). A page outside ``CORS_ALLOWED_ORIGINS`` (and not on the
API's own origin, ``MEDIA_API_URL``, where the embed page lives) is refused with 403 before
anything is read or stored; so is ``Origin: null`` (a sandboxed frame, a page whose
``Referrer-Policy`` hides its origin): it names no site that could be checked.

A request with neither header comes from no web page: a server-side player, a native app.
It is accepted as an ``app`` view, counted apart from ``web`` views, unless
``TRACKING_REQUIRE_ORIGIN=true``. (Anyone can forge headers outside a browser; the rule is
about browsers, which cannot.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from chalice.app import Request

from chalicelib.config import get_settings
from chalicelib.domain import errors
from chalicelib.web.cors import ANY_ORIGIN
from chalicelib.web.request import header

TrackingSource = Literal["web", "app"]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def tracking_source(request: Request) -> TrackingSource:
    """``web`` for a page on an allowed site, ``app`` for a request naming no page; 403 otherwise."""
    page = header(request, "origin").strip() or header(request, "referer").strip()
    if not page:
        if get_settings().tracking_require_origin:
            raise errors.PermissionDenied("Tracking requests must come from a page: Origin or Referer is required")
        return "app"
    if not is_allowed_page(page):
        raise errors.PermissionDenied("This site may not send tracking data (its origin is not allowed)")
    return "web"


def is_allowed_page(url: str) -> bool:
    """Whether ``url`` (an Origin, or a Referer's full URL) is on an allowed site."""
    origin = origin_of(url)
    if origin is None:
        return False
    settings = get_settings()
    allowed = _allowed_origins(settings.cors_allowed_origins, settings.media_api_url)
    return allowed is None or origin in allowed


@lru_cache(maxsize=8)
def _allowed_origins(listed: tuple[str, ...], api_url: str) -> frozenset[str] | None:
    """The origins that may send tracking data (None: any), read once per configuration."""
    if ANY_ORIGIN in listed:
        return None
    own = origin_of(api_url)
    return frozenset(origin_of(entry) or entry for entry in listed) | ({own} if own else set())


# Every beacon names its page, and a container sees the same few pages again and again.
@lru_cache(maxsize=1024)
def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased, without a default port; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}")
