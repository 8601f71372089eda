"""Integer claims of every token are ASCII digits or JSON integers: anything else is a 401, never a 500.

``str.isdigit`` is true for superscript, Arabic-Indic and fullwidth digits, and ``int("²")`` raises, so
a signed token carrying one used to crash the route that read it.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from chalicelib.services.preview import PREVIEW_AUDIENCE, PREVIEW_TOKEN_USE
from tests.support.env import TEST_JWT_SECRET

ODD_IDS = ["\u00b2", "\u0661", "\uff15", "1²", " 1", "1 ", "+1", "-1", "0", "1.0", "", "99999999999", True, 1.0, None]


def _signed(claims: dict[str, Any]) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 600, **claims}, TEST_JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("subject", ODD_IDS)
def test_a_preview_token_whose_subject_is_not_an_id_is_401(client: Any, create_video: Any, subject: Any) -> None:
    create_video(published=False)
    token = _signed({"sub": subject, "aud": PREVIEW_AUDIENCE, "token_use": PREVIEW_TOKEN_USE})
    response = client.http.get(f"/api/videos/preview/{token}")
    assert response.status_code == 401, response.body
    assert response.json_body["error"] == "Unauthorized"


def test_a_preview_token_naming_a_video_in_ascii_digits_opens_it(client: Any, create_video: Any) -> None:
    video = create_video(published=False)
    token = _signed({"sub": str(video["id"]), "aud": PREVIEW_AUDIENCE, "token_use": PREVIEW_TOKEN_USE})
    assert client.http.get(f"/api/videos/preview/{token}").status_code == 200


@pytest.mark.parametrize("claim", ["id", "sub"])
@pytest.mark.parametrize("user_id", ODD_IDS)
def test_an_access_token_whose_user_id_is_not_an_id_is_401(client: Any, claim: str, user_id: Any) -> None:
    token = _signed({claim: user_id, "role": "SUPER_ADMIN"})
    response = client.http.get("/api/videos/ingest-failures", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.body
