"""Expiring preview links: a JWT that can only ever be a preview token.

A preview token carries its own audience and a ``token_use`` claim. Access-token
decoding (:mod:`chalicelib.services.auth`) rejects any token with either, and
this decoder requires both, so neither kind of token is accepted as the other
even though the same HS256 key signs them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from chalicelib.config import get_settings
from chalicelib.domain.errors import Gone, NotAuthenticated
from chalicelib.services.auth import ALGORITHM, TOKEN_USE_CLAIM, id_claim

PREVIEW_AUDIENCE = "media-api:video-preview"
PREVIEW_TOKEN_USE = "video_preview"
MAX_TOKEN_CHARS = 2048


@dataclass(frozen=True)
class PreviewLink:
    token: str
    url: str
    expiry_hours: int


def issue_preview_link(video_id: int, *, now: int | None = None) -> PreviewLink:
    """A link to ``GET /api/videos/preview/<token>`` valid for ``VIDEO_PREVIEW_LINK_EXPIRY_HOURS``."""
    settings = get_settings()
    issued_at = int(time.time()) if now is None else now
    hours = settings.preview_link_expiry_hours
    claims = {
        "sub": str(video_id),
        "aud": PREVIEW_AUDIENCE,
        TOKEN_USE_CLAIM: PREVIEW_TOKEN_USE,
        "iat": issued_at,
        "exp": issued_at + hours * 3600,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.require_jwt_secret(), algorithm=ALGORITHM)
    return PreviewLink(token=token, url=f"{settings.media_api_url}/api/videos/preview/{token}", expiry_hours=hours)


def decode_preview_token(token: str) -> int:
    """The video id of a valid preview token: expired → 410, anything else wrong → 401."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise NotAuthenticated("Preview link is invalid")
    try:
        claims = jwt.decode(
            token,
            get_settings().require_jwt_secret(),
            algorithms=[ALGORITHM],
            audience=PREVIEW_AUDIENCE,
            options={"require": ["exp", "aud", "sub", TOKEN_USE_CLAIM]},
        )
    except jwt.ExpiredSignatureError as exc:  # raised only after the signature checked out
        raise Gone("Preview link has expired") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("Preview link is invalid") from exc
    if claims.get(TOKEN_USE_CLAIM) != PREVIEW_TOKEN_USE:
        raise NotAuthenticated("Preview link is invalid")
    video_id = id_claim(claims.get("sub"), digits_allowed=True)
    if video_id is None:
        raise NotAuthenticated("Preview link is invalid")
    return video_id
