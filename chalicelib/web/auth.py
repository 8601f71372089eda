"""Who is calling: the bearer token of a request, checked per the route's auth mode.

* ``public``: no token is read;
* ``optional``: a valid token identifies the caller, an invalid one is ignored
  (tracking from a signed-in page must not fail because a token expired);
* ``admin``: a valid token with an admin role is required (401 without a valid
  token, 403 with a valid one that is not an admin's);
* ``user``: any valid token is required (401 without one); the route decides what its
  caller may reach (a person's own data, or an admin's).
"""

from __future__ import annotations

from typing import Literal

from chalice.app import Request

from chalicelib.domain import errors
from chalicelib.services.auth import Principal, decode_access_token
from chalicelib.web.request import header

AuthMode = Literal["public", "optional", "admin", "user"]
# Modes that require a valid token, and so count against the per-user rate limit of signed-in routes.
TOKEN_REQUIRED: frozenset[AuthMode] = frozenset({"admin", "user"})


def bearer_token(request: Request) -> str | None:
    scheme, _, token = header(request, "authorization").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(request: Request, mode: AuthMode) -> Principal | None:
    if mode == "public":
        return None
    token = bearer_token(request)
    if mode in TOKEN_REQUIRED:
        if token is None:
            raise errors.NotAuthenticated("Authorization: Bearer <token> is required")
        principal = decode_access_token(token)
        if mode == "admin" and not principal.is_admin:
            raise errors.PermissionDenied("Admin role required")
        return principal
    if token is None:
        return None
    try:
        return decode_access_token(token)
    except errors.NotAuthenticated:
        return None
