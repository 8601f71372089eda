"""Admin auth: every 401/403 case, and optional auth that never fails a public request."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.support.api import json_body, token_for, video_payload
from tests.support.database import make_user
from tests.support.env import TEST_JWT_SECRET


def _claims(**overrides: Any) -> dict[str, Any]:
    claims = {"id": 1, "role": "SUPER_ADMIN", "exp": int(time.time()) + 600}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _post_video(client: Any, authorization: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.http.post("/api/videos", headers=headers, body=json_body(video_payload()))


FORGED = {
    "wrong secret": jwt.encode(_claims(), "not-the-secret-not-the-secret-000", algorithm="HS256"),
    "expired": jwt.encode(_claims(exp=int(time.time()) - 120), TEST_JWT_SECRET, algorithm="HS256"),
    "no exp": jwt.encode(_claims(exp=None), TEST_JWT_SECRET, algorithm="HS256"),
    "alg none": jwt.encode(_claims(), None, algorithm="none"),
    "HS512": jwt.encode(_claims(), TEST_JWT_SECRET, algorithm="HS512"),
    "no user id": jwt.encode(_claims(id=None), TEST_JWT_SECRET, algorithm="HS256"),
    "preview token": jwt.encode(_claims(token_use="preview", aud="media-preview"), TEST_JWT_SECRET, algorithm="HS256"),
    "garbage": "not.a.jwt",
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_bad_tokens_are_401(client: Any, name: str) -> None:
    response = _post_video(client, f"Bearer {FORGED[name]}")
    assert response.status_code == 401
    assert response.json_body["error"] == "Unauthorized"
    assert response.json_body["message"]


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
def test_missing_token_is_401(client: Any, authorization: str | None) -> None:
    response = _post_video(client, authorization)
    assert response.status_code == 401
    assert response.json_body == {"error": "Unauthorized", "message": "Authorization: Bearer <token> is required"}


@pytest.mark.parametrize("role", ["USER", "", "super_admin", "EDITOR"])
def test_valid_token_without_admin_role_is_403(client: Any, role: str) -> None:
    user_id = make_user(role=role or "USER")
    response = _post_video(client, f"Bearer {token_for(user_id, role)}")
    assert response.status_code == 403
    assert response.json_body["error"] == "Forbidden"


@pytest.mark.parametrize("role", ["SUPER_ADMIN", "INFLUENCE_ADMIN", "MAP_ADMIN"])
def test_each_admin_role_is_accepted(client: Any, role: str) -> None:
    user_id = make_user(role=role)
    response = _post_video(client, f"Bearer {token_for(user_id, role)}")
    assert response.status_code == 201


def test_sub_claim_carries_the_user_id(client: Any) -> None:
    token = jwt.encode(_claims(id=None, sub="7"), TEST_JWT_SECRET, algorithm="HS256")
    assert _post_video(client, f"Bearer {token}").status_code == 201


@pytest.mark.parametrize("name", sorted(FORGED))
def test_optional_auth_ignores_a_bad_token(client: Any, create_video: Any, name: str) -> None:
    create_video(published=True)
    create_video(published=False)
    response = client.http.get("/api/videos", headers={"Authorization": f"Bearer {FORGED[name]}"})
    assert response.status_code == 200
    assert response.json_body["total"] == 1  # treated as public: published only


# --- claim rules (README "Auth"): types are checked, clocks may differ by up to 60 s -------------


def _encoded(**overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), TEST_JWT_SECRET, algorithm="HS256")


def _refused_claims(now: int) -> dict[str, dict[str, Any]]:
    """Built when the test runs, not at collection: a slow run reaches these tests minutes later,
    and claims 90 s ahead of a stale clock would be within the skew by then."""
    return {
        "exp as a string": {"exp": str(now + 600)},
        "exp as a boolean": {"exp": True},
        "iat as a string": {"iat": str(now)},
        "nbf as a string": {"nbf": str(now)},
        "id as a fraction": {"id": 1.9},
        "id as a whole float": {"id": 1.0},
        "id as a padded string": {"id": " 924 "},
        "id as a digit string": {"id": "924"},
        "id as fullwidth digits": {"id": "\uff19\uff12\uff15"},
        "id as a boolean": {"id": True},
        "id as a list": {"id": [1]},
        "id zero": {"id": 0},
        "id negative": {"id": -4},
        "id beyond int4": {"id": 2**31},
        "sub with fullwidth digits": {"id": None, "sub": "\uff19\uff12\uff15"},
        "sub padded": {"id": None, "sub": " 7 "},
        "sub as a fraction": {"id": None, "sub": 7.5},
        "iat 90 s ahead": {"iat": now + 90},
        "nbf 90 s ahead": {"nbf": now + 90},
        "expired 90 s ago": {"exp": now - 90},
    }


@pytest.mark.parametrize("name", sorted(_refused_claims(0)))
def test_claims_of_the_wrong_type_or_beyond_the_skew_are_401(client: Any, name: str) -> None:
    make_user(user_id=1)
    response = _post_video(client, f"Bearer {_encoded(**_refused_claims(int(time.time()))[name])}")
    assert response.status_code == 401, response.body


def _accepted_claims(now: int) -> dict[str, dict[str, Any]]:
    return {
        "id as an integer": {"id": 7},
        "sub as an integer": {"id": None, "sub": 7},
        "sub as ASCII digits": {"id": None, "sub": "7"},
        "iat 30 s ahead (clock skew)": {"iat": now + 30},
        "nbf 30 s ahead": {"nbf": now + 30},
        "expired 30 s ago": {"exp": now - 30},
        "exp as a fraction": {"exp": now + 600.5},
    }


@pytest.mark.parametrize("name", sorted(_accepted_claims(0)))
def test_claims_within_the_rules_are_accepted(client: Any, name: str) -> None:
    make_user(user_id=7)
    assert _post_video(client, f"Bearer {_encoded(**_accepted_claims(int(time.time()))[name])}").status_code == 201


# --- tokens minted by the main API's own library (Node's jsonwebtoken) ----------------------------


def test_tokens_minted_by_jsonwebtoken_are_accepted_or_refused_alike(client: Any) -> None:
    """The main API signs with ``jwt.sign(payload, secret, {expiresIn})``; its clock may run ahead."""
    from tests.support import node_jwt

    make_user(user_id=42, role="INFLUENCE_ADMIN")
    now = int(time.time())
    cases = [
        ({"id": 42, "role": "INFLUENCE_ADMIN"}, {"expiresIn": "15m"}, 201),
        ({"id": 42, "role": "INFLUENCE_ADMIN", "iat": now + 1}, {"expiresIn": 900}, 201),  # main API 1 s ahead
        ({"id": 42, "role": "INFLUENCE_ADMIN", "iat": now + 45}, {"expiresIn": 900}, 201),
        ({"sub": "42", "role": "INFLUENCE_ADMIN"}, {"expiresIn": "1h"}, 201),
        ({"id": 42, "role": "INFLUENCE_ADMIN", "exp": now - 30}, {}, 201),  # within the 60 s skew
        ({"id": 42, "role": "INFLUENCE_ADMIN", "exp": now - 120}, {}, 401),
        ({"id": 42, "role": "INFLUENCE_ADMIN"}, {}, 401),  # no exp: never expires, refused
        ({"id": 42, "role": "USER"}, {"expiresIn": "15m"}, 403),
        ({"id": 42.5, "role": "INFLUENCE_ADMIN"}, {"expiresIn": "15m"}, 401),
        ({"id": "42", "role": "INFLUENCE_ADMIN"}, {"expiresIn": "15m"}, 401),
    ]
    tokens = node_jwt.mint_many([(payload, TEST_JWT_SECRET, options) for payload, options, _ in cases])
    statuses = [_post_video(client, f"Bearer {token}").status_code for token in tokens]
    assert statuses == [expected for _, _, expected in cases]
    assert node_jwt.sign_error({"id": 42, "exp": str(now + 60)}, TEST_JWT_SECRET) is not None  # Node refuses too


def test_a_token_signed_with_another_secret_by_jsonwebtoken_is_401(client: Any) -> None:
    from tests.support import node_jwt

    token = node_jwt.mint({"id": 1, "role": "SUPER_ADMIN"}, "another-secret-another-secret-0000", expiresIn="5m")
    assert _post_video(client, f"Bearer {token}").status_code == 401
