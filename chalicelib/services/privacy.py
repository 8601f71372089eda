"""Privacy rules for what the service stores about viewers (see README "Privacy")."""

from __future__ import annotations

import hashlib
import hmac
import re

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


def stored_referrer(referer: str | None) -> str | None:
    """What is stored of a referring URL: scheme, host (and port) and a cleaned path only.

    A query string or fragment can carry a session id, a preview token or an e-mail
    address, and user:password@ a credential; none of it is needed to tell where
    viewers come from. Paths carry them too (``;jsessionid=...``, ``/unsubscribe/ann@x.org``,
    ``/preview/eyJ...``), so the path keeps only its segments that look like page names:
    see :func:`_clean_path`. Anything that is not an http(s) URL is not stored at all.
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
    return f"{parts.scheme.lower()}://{host}{port}{_clean_path(parts.path)}"[:REFERER_MAX_LENGTH]


# Inside a path segment (percent-decoded): an e-mail address; a JWT (three base64url parts,
# the first a JSON header); a UUID or a long hex string of digits and letters (session ids,
# hashes; a long number alone is an id, kept).
_EMAIL = re.compile(r"[^@/\s]+@[^@/\s]+\.[A-Za-z]{2,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_HEX = re.compile(r"(?=[0-9a-fA-F-]*[0-9])(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F-]{16,}")
# A run of 16+ letters and digits mixing both: a token, a key, a base64 id (a slug's words are shorter).
_TOKEN_RUN = re.compile(r"(?=[A-Za-z0-9+/=]*[0-9])(?=[A-Za-z0-9+/=]*[A-Za-z])[A-Za-z0-9+/=]{16,}")


def _clean_path(path: str) -> str:
    """The path without ``;parameters`` and without the segments that look like secrets or addresses.

    ``/app;jsessionid=1A2B/watch`` → ``/app/watch``; ``/u/ann%40mail.example/videos`` →
    ``/u/videos``; ``/preview/eyJhbGciOi...`` → ``/preview``; ``/reset/3f2a...c9`` → ``/reset``.
    """
    kept = [segment.split(";", 1)[0] for segment in (path or "/").split("/")]
    kept = [segment for segment in kept if not _looks_secret(segment)]
    cleaned = "/".join(kept)
    return cleaned if cleaned.startswith("/") else "/" + cleaned


def _looks_secret(segment: str) -> bool:
    from urllib.parse import unquote

    text = unquote(segment)
    if _EMAIL.search(text) or _JWT.search(text) or _HEX.fullmatch(text):
        return True
    return any(_TOKEN_RUN.fullmatch(word) for word in re.split(r"[-_.~:,!@$&'()*]+", text))
