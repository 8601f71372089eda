"""Privacy rules for what the service stores about viewers (see README "Privacy")."""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.config import get_settings

REFERER_MAX_LENGTH = 2048


def keyed_ip_hash(ip_address: str, secret: str) -> str:
    """HMAC-SHA-256 of the address, 64 hex chars.

    A plain SHA-256 of an IPv4 address is reversed by hashing all 2^32 addresses;
    without the server-side key that search is impossible.
    """
    return hmac.new(secret.encode(), ip_address.encode(), hashlib.sha256).hexdigest()


def stored_ip_hash(ip_address: str) -> str | None:
    """What goes into ``video_views.ip_address``: the keyed hash, or nothing when hashing is disabled."""
    settings = get_settings()
    if not settings.ip_hashing_enabled or not ip_address:
        return None
    return keyed_ip_hash(ip_address, settings.ip_hash_key)


def rate_limit_key(ip_address: str) -> str:
    """Rate-limit counters are keyed by the same HMAC, so no address is ever stored in clear."""
    return keyed_ip_hash(ip_address or "unknown", get_settings().ip_hash_key)


def referrer_without_query(referer: str | None) -> str | None:
    """What is stored of a referring URL: scheme, host (and port) and path only.

    A query string or fragment can carry a session id, a preview token or an e-mail
    address, and user:password@ a credential; none of it is needed to tell where
    viewers come from. Anything that is not an http(s) URL is not stored at all.
    """
    from urllib.parse import urlsplit

    if not referer:
        return None
    try:
        parts = urlsplit(referer.strip())
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port or IPv6 literal
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}{port}{parts.path or '/'}"[:REFERER_MAX_LENGTH]
