"""CORS exactly as configured: only origins listed in ``CORS_ALLOWED_ORIGINS`` are let in.

API Gateway's static CORS answers one origin (or ``*``) to everyone, so the function
answers preflights itself (every path has an ``OPTIONS`` route, see
:mod:`chalicelib.web.routing`) and the middleware adds the headers to every other
answer. A listed origin is reflected with ``Access-Control-Allow-Credentials: true``
(so a ``sendBeacon`` with a JSON Blob, sent in credentials mode, is allowed);
an unlisted one gets no CORS header at all. Every answer carries ``Vary: Origin`` so a
cache never hands one origin's answer to another. ``*`` in the list means "any
origin", answered as ``*`` without credentials.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.config import get_settings

ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Retry-After"
PREFLIGHT_MAX_AGE_SECONDS = 600
ANY_ORIGIN = "*"


def allowed_origin(origin: str) -> str | None:
    """The value for ``Access-Control-Allow-Origin``, or None when the origin is not let in."""
    if not origin:
        return None
    origins = get_settings().cors_allowed_origins
    if origin.rstrip("/").lower() in origins:
        return origin
    return ANY_ORIGIN if ANY_ORIGIN in origins else None


def response_headers(origin: str) -> dict[str, str]:
    """Headers for an actual (non-preflight) answer."""
    allowed = allowed_origin(origin)
    headers = {"Vary": "Origin"}
    if allowed is None:
        return headers
    headers["Access-Control-Allow-Origin"] = allowed
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if allowed != ANY_ORIGIN:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def preflight_headers(origin: str, methods: Iterable[str]) -> dict[str, str]:
    """Headers for the answer to ``OPTIONS`` with ``Access-Control-Request-Method``."""
    allowed = allowed_origin(origin)
    headers = {"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
    if allowed is None:
        return headers
    headers["Access-Control-Allow-Origin"] = allowed
    headers["Access-Control-Allow-Methods"] = ", ".join(sorted({*methods, "OPTIONS"}))
    headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    if allowed != ANY_ORIGIN:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers
