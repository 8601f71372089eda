"""Access tokens issued by the main API: HS256 JWTs signed with ``JWT_ACCESS_SECRET``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.config import ADMIN_ROLES, get_settings
from chalicelib.domain.errors import NotAuthenticated

ALGORITHM = "HS256"
# Clock skew tolerated between the main API, which mints tokens, and this service: a token
# issued "1 s in the future" by a server whose clock runs ahead is still valid.
CLOCK_SKEW_SECONDS = 60
_TIME_CLAIMS = ("exp", "iat", "nbf")
# Claim that marks a token minted by this service for something other than access
# (preview links); such a token is never an access token.
TOKEN_USE_CLAIM = "token_use"
_ASCII_ID = re.compile("[0-9]{1,10}")


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


def decode_access_token(token: str) -> Principal:
    """Verify signature, algorithm, expiry and claim types; raise :class:`NotAuthenticated` on any doubt.

    Only HS256 is accepted, so ``alg: none`` and algorithm-confusion tokens fail.
    A token with an audience (every preview token has one) fails too, because no
    audience is expected here. ``exp`` (required), ``iat`` and ``nbf`` must be JSON
    numbers, as the main API's ``jsonwebtoken`` writes them; PyJWT alone would accept
    ``"exp": "9999999999"``. Each is checked with :data:`CLOCK_SKEW_SECONDS` of leeway.
    """
    secret = get_settings().require_jwt_secret()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # ``sub`` is checked by _user_id: jsonwebtoken signs a numeric one, which PyJWT would refuse.
            options={"require": ["exp"], "verify_sub": False},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("Access token has expired") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("Access token is invalid") from exc
    if TOKEN_USE_CLAIM in claims or not all(_is_number(claims[name]) for name in _TIME_CLAIMS if name in claims):
        raise NotAuthenticated("Access token is invalid")
    return Principal(user_id=_user_id(claims), role=str(claims.get("role") or ""))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _user_id(claims: dict[str, Any]) -> int:
    """The user id: ``id`` as a JSON integer, else ``sub`` as a JSON integer or a string of ASCII digits.

    Anything looser (``1.9``, ``" 924 "``, fullwidth digits, ``true``) is refused rather than
    coerced into some other user's id.
    """
    if "id" in claims:
        user_id = id_claim(claims["id"], digits_allowed=False)
    else:
        user_id = id_claim(claims.get("sub"), digits_allowed=True)
    if user_id is None:
        raise NotAuthenticated("Access token has no valid user id")
    return user_id


def id_claim(raw: Any, *, digits_allowed: bool) -> int | None:
    """An id claim of any token: a JSON integer 1..2^31-1, or (``digits_allowed``) a string of ASCII digits.

    The one parser of integer claims: ``str.isdigit`` and ``int()`` also take superscript,
    fullwidth and other scripts' digits (``int("²")`` raises), which must be refused, not crash.
    """
    if digits_allowed and isinstance(raw, str) and _ASCII_ID.fullmatch(raw):
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 < raw < 2**31:
        return None
    return raw


def issue_access_token(user_id: int, role: str, ttl_seconds: int = 3600) -> str:
    """Mint an access token the way the main API does (dev tooling and tests)."""
    import time

    now = int(time.time())
    payload = {"id": user_id, "sub": str(user_id), "role": role, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, get_settings().require_jwt_secret(), algorithm=ALGORITHM)
