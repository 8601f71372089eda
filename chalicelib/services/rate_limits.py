"""Per-minute request limits, shared by all containers via PostgreSQL."""

from __future__ import annotations

from chalicelib.domain.errors import RateLimited
from chalicelib.repositories import rate_limits

# Requests per client per one-minute window.
LIMITS: dict[str, int] = {
    "track-view": 100,
    "track-event": 100,
    "track-heartbeat": 200,
    "track-batch": 20,
    "admin": 500,
}


def enforce(hits: int, retry_after: int, bucket: str) -> None:
    """Raise :class:`RateLimited` when ``hits`` went past the bucket's limit."""
    if hits > LIMITS[bucket]:
        raise RateLimited(f"Too many requests: limit is {LIMITS[bucket]} per minute", retry_after)


def check_admin_rate(user_id: int) -> None:
    """Routes that require a token (admin routes, a person's own data): 500 requests per minute per user,
    counted in their own tiny transaction."""
    from chalicelib.db.engine import get_engine

    with get_engine().begin() as connection:
        hits, retry_after = rate_limits.hit(connection, "admin", f"user:{user_id}")
    enforce(hits, retry_after, "admin")
