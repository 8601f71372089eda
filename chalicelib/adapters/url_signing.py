"""Playback URLs of media objects (stream URLs and generated thumbnails), signed locally.

Deployed, a CloudFront distribution sits in front of the private media bucket and URLs
are CloudFront signed URLs (a canned policy signed with the key group's private key,
ECDSA P-256 or RSA 2048, SHA-256); without a CDN configured (``make dev``, tests) they are
presigned S3 GET URLs. Both are range-capable, so players can seek, and both are
signed without a network call, so listing 100 videos never waits on AWS.

Expiry times are rounded up to :data:`WINDOW_SECONDS`, so a URL minted for a key stays
the same for a few minutes and is cached: a warm container lists the same page of
videos without signing anything again. A URL lives between ``TTL`` and
``TTL + WINDOW_SECONDS``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from chalicelib.config import Settings, get_settings

WINDOW_SECONDS = 300
# SigV4 presigned URLs live at most 7 days.
MAX_S3_EXPIRY_SECONDS = 7 * 24 * 3600
CACHED_URLS = 8192


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime

    def expires_in(self, now: float | None = None) -> int:
        return max(0, int(self.expires_at.timestamp() - (time.time() if now is None else now)))


def signed_url(key: str, *, now: float | None = None) -> SignedUrl:
    """A URL that serves ``key`` from the media bucket (HTTP Range supported) until it expires."""
    moment = time.time() if now is None else now
    expires = window_expiry(moment)
    return SignedUrl(url_until(key, expires, now=moment), datetime.fromtimestamp(expires, UTC))


def window_expiry(now: float | None = None) -> int:
    """When a URL signed now expires: ``VIDEO_STREAM_URL_TTL_SECONDS`` on, rounded up to the window."""
    moment = time.time() if now is None else now
    return math.ceil((moment + get_settings().stream_url_ttl_seconds) / WINDOW_SECONDS) * WINDOW_SECONDS


def url_until(key: str, expires: int, *, now: float | None = None) -> str:
    """A signed URL of ``key`` that works until ``expires`` (epoch seconds), cached per key and expiry."""
    settings = get_settings()
    if settings.stream_cdn_domain:
        return _cloudfront_url(key, expires, _cdn_identity(settings))
    return _s3_url(key, expires, int(time.time() if now is None else now), _s3_identity(settings))


def reset() -> None:
    """Forget cached URLs and the signing key (tests switch settings and emulators)."""
    _cloudfront_url.cache_clear()
    _s3_url.cache_clear()
    _signing_key.cache_clear()
    _own_base.cache_clear()


def _s3_identity(settings: Settings) -> tuple[str, str]:
    return settings.media_bucket, settings.aws_endpoint_url


def _cdn_identity(settings: Settings) -> tuple[str, str, str]:
    return settings.stream_cdn_domain, settings.stream_key_pair_id, settings.stream_private_key_secret


@lru_cache(maxsize=CACHED_URLS)
def _s3_url(key: str, expires: int, signed_at: int, identity: tuple[str, str]) -> str:
    """A presigned GET (SigV4, computed locally by botocore) that stops working at ``expires``.

    Cached per key and expiry window: ``signed_at`` only sets the first URL's lifetime.
    """
    from chalicelib.adapters.aws import client

    bucket, _endpoint = identity
    lifetime = min(MAX_S3_EXPIRY_SECONDS, max(1, expires - signed_at))
    return str(
        client("s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=lifetime)
    )


@lru_cache(maxsize=CACHED_URLS)
def _cloudfront_url(key: str, expires: int, identity: tuple[str, str, str]) -> str:
    """A CloudFront signed URL with a canned policy ("this URL until ``expires``")."""
    from botocore.signers import CloudFrontSigner

    domain, key_pair_id, secret = identity
    signer = CloudFrontSigner(key_pair_id, _signing_key(secret).sign)
    resource = f"https://{domain}/{quote(key, safe='/')}"
    signed = signer.generate_presigned_url(resource, date_less_than=datetime.fromtimestamp(expires, UTC))
    return f"{signed}&Hash-Algorithm=SHA256"


@dataclass(frozen=True)
class _SigningKey:
    """The key group's private key; signs CloudFront policies with SHA-256."""

    private_key: Any

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return bytes(self.private_key.sign(message, ec.ECDSA(hashes.SHA256())))
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return bytes(self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256()))
        raise TypeError("the stream signing key must be an ECDSA P-256 or RSA 2048 private key")


@lru_cache(maxsize=1)
def _signing_key(secret_name: str) -> _SigningKey:
    """Read once per container from Secrets Manager (Powertools Parameters, cached) and parsed once."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from chalicelib.adapters.secrets import stream_signing_key_pem

    return _SigningKey(load_pem_private_key(stream_signing_key_pem(secret_name).encode(), password=None))


# --- recognising our own URLs ----------------------------------------------------------------------

_PROBE_KEY = "media-url-probe"


def media_key_of(url: str) -> str | None:
    """The object key when ``url`` is one of this service's own media URLs, signed or not: the CDN's,
    or the media bucket's as the S3 client addresses it (virtual-hosted, path-style, an emulator).

    None for any other URL (an external image an admin chose).
    """
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    origin, prefix = _own_base(_identity(get_settings()))
    if f"{parts.scheme.lower()}://{parts.netloc.lower()}" != origin or not parts.path.startswith(prefix):
        return None
    key = unquote(parts.path[len(prefix) :])
    return key or None


def without_signature(url: str) -> str:
    """``url`` without its query string when it is one of our own media URLs, else as given.

    A signed URL stops working when it expires; stored, it would break the answer that carries
    it hours later (an admin's GET-then-PATCH round trip sends back the signed thumbnail).
    Answers sign such a URL again (:func:`media_key_of`).
    """
    from urllib.parse import urlsplit, urlunsplit

    if media_key_of(url) is None:
        return url
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


def _identity(settings: Settings) -> tuple[str, ...]:
    return _cdn_identity(settings) if settings.stream_cdn_domain else _s3_identity(settings)


@lru_cache(maxsize=4)
def _own_base(identity: tuple[str, ...]) -> tuple[str, str]:
    """``(scheme://host, path prefix before the key)`` of our media URLs, read off a URL signed for a probe key."""
    from urllib.parse import urlsplit

    if get_settings().stream_cdn_domain:
        return f"https://{identity[0].lower()}", "/"
    from chalicelib.adapters.aws import client

    probe = str(client("s3").generate_presigned_url("get_object", Params={"Bucket": identity[0], "Key": _PROBE_KEY}))
    parts = urlsplit(probe)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}", parts.path[: -len(_PROBE_KEY)]
