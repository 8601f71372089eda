"""Access tokens issued by the main API: HS256 JWTs signed with ``JWT_ACCESS_SECRET``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.config import ADMIN_ROLES, get_settings
from chalicelib.errors import NotAuthenticated

ALGORITHM = "HS256"
# Claim that marks a token minted by this service for something other than access
# (preview links); such a token is never an access token.
TOKEN_USE_CLAIM = "token_use"


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


def decode_access_token(token: str) -> Principal:
    """Verify signature, algorithm and expiry; raise :class:`NotAuthenticated` on any doubt.

    Only HS256 is accepted, so ``alg: none`` and algorithm-confusion tokens fail.
    A token with an audience (every preview token has one) fails too, because no
    audience is expected here.
    """
    secret = get_settings().require_jwt_secret()
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("Access token has expired") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("Access token is invalid") from exc
    if TOKEN_USE_CLAIM in claims:
        raise NotAuthenticated("Access token is invalid")
    return Principal(user_id=_user_id(claims), role=str(claims.get("role") or ""))


def _user_id(claims: dict[str, Any]) -> int:
    raw: Any = claims.get("id", claims.get("sub"))
    if isinstance(raw, bool):
        raise NotAuthenticated("Access token has no user id")
    try:
        user_id = int(raw)
    except (TypeError, ValueError) as exc:
        raise NotAuthenticated("Access token has no user id") from exc
    if not 0 < user_id < 2**31:
        raise NotAuthenticated("Access token has no user id")
    return user_id


def issue_access_token(user_id: int, role: str, ttl_seconds: int = 3600) -> str:
    """Mint an access token the way the main API does (dev tooling and tests)."""
    import time

    now = int(time.time())
    payload = {"id": user_id, "sub": str(user_id), "role": role, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, get_settings().require_jwt_secret(), algorithm=ALGORITHM)
