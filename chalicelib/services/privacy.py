"""Privacy rules for what the service stores about viewers (see README "Privacy")."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import threading
from datetime import UTC, date, datetime

from chalicelib.config import get_settings

REFERER_MAX_LENGTH = 2048
SALT_BYTES = 32


def keyed_digest(secret: str, message: bytes) -> bytes:
    """HMAC-SHA-256 of ``message`` under ``secret``.

    The key is set up once per secret and copied for each message: every beacon takes two or three
    of these, and ``hmac.digest`` sets the key up each time, which costs more than the copy (docs/benchmark.md).
    """
    keyed = _keyed(secret).copy()
    keyed.update(message)
    return keyed.digest()


@functools.lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def keyed_ip_hash(ip_address: str, secret: str) -> str:
    """HMAC-SHA-256 of the address, 64 hex chars.

    A plain SHA-256 of an IPv4 address is reversed by hashing all 2^32 addresses;
    without the server-side key that search is impossible.
    """
    return keyed_digest(secret, ip_address.encode()).hex()


def visitor_key(ip_address: str, user_agent: str | None) -> str | None:
    """What goes into ``video_views.ip_address``: the anonymous visitor key, or nothing when
    ``VIDEO_ANALYTICS_IP_HASHING_ENABLED=false``.

    HMAC-SHA-256 (keyed with ``VIDEO_ANALYTICS_IP_HASH_SECRET``) of the day's salt, the address
    and the User-Agent: browsers sharing one address (a household, an office, a carrier's NAT)
    are told apart, and with the default daily rotation the same browser gets another key the
    next UTC day, whose salt the service no longer has (see :func:`_salt`). With
    ``VIDEO_ANALYTICS_VISITOR_SALT_ROTATION=never`` the salt is empty: one key for good.
    """
    settings = get_settings()
    if not settings.ip_hashing_enabled or not ip_address:
        return None
    salt = _salt() if settings.visitor_salt_rotation == "daily" else b""
    message = b"\0".join((salt, ip_address.encode(), (user_agent or "").encode()))
    return keyed_digest(settings.ip_hash_key, message).hex()


_salt_lock = threading.Lock()
_salt_cache: tuple[date, bytes] | None = None


def _salt(today: date | None = None) -> bytes:
    """Today's (UTC) salt: made by the first container that needs it, the same for all, kept by each for the day."""
    global _salt_cache
    from chalicelib.repositories import visitor_salts

    day = today or datetime.now(UTC).date()
    with _salt_lock:
        if _salt_cache is not None and _salt_cache[0] == day:
            return _salt_cache[1]
        for _ in range(3):  # a concurrent first insert is visible once it committed, at the next try
            salt = visitor_salts.salt_of(day, secrets.token_bytes(SALT_BYTES))
            if salt is not None:
                _salt_cache = (day, salt)
                return salt
    raise RuntimeError("No visitor salt could be read for today")


def forget_salt() -> None:
    """Drop the salt this process keeps (tests; the next key reads the day's salt again)."""
    global _salt_cache
    with _salt_lock:
        _salt_cache = None


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
