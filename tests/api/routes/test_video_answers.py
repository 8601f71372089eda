"""Who gets a video's analytics: admins. Anonymous callers, signed-in viewers and preview links get the
public fields and playback URLs only, in the answers and in the OpenAPI document alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import token_for
from tests.support.database import make_user

FIGURES = {"uniqueViewers", "totalWatchTimeSeconds", "averageWatchTimeSeconds", "completionRate"}


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True)


def _viewer_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(make_user(role='USER'), 'USER')}"}


@pytest.mark.parametrize("who", ["anonymous", "viewer", "bad token"])
def test_the_public_gets_no_figures_in_the_list_or_a_video(client: Any, video: dict[str, Any], who: str) -> None:
    headers = {"anonymous": {}, "viewer": _viewer_headers(), "bad token": {"Authorization": "Bearer x.y.z"}}[who]
    single = client.http.get(f"/api/videos/{video['id']}", headers=headers)
    listing = client.http.get("/api/videos", headers=headers)
    assert single.status_code == listing.status_code == 200
    [listed] = listing.json_body["videos"]
    for answer in (single.json_body, listed):
        assert not FIGURES & set(answer), answer
        assert answer["id"] == video["id"] and answer["streamUrl"].startswith("http")


def test_admins_get_the_figures(client: Any, video: dict[str, Any], admin_headers: dict[str, str]) -> None:
    single = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body
    [listed] = client.http.get("/api/videos", headers=admin_headers).json_body["videos"]
    for answer in (single, listed, video):  # ``video`` is the POST/PATCH answer
        assert set(answer) >= FIGURES, answer


def test_a_preview_link_shows_no_figures(client: Any, video: dict[str, Any], admin_headers: dict[str, str]) -> None:
    link = client.http.get(f"/api/videos/{video['id']}/preview-link", headers=admin_headers).json_body
    preview = client.http.get(f"/api/videos/preview/{link['previewUrl'].rsplit('/', 1)[1]}")
    assert preview.status_code == 200
    assert not FIGURES & set(preview.json_body)
    assert preview.json_body["streamUrlExpiresIn"] > 0


def test_the_document_separates_public_and_admin_answers(client: Any) -> None:
    document = client.http.get("/api/openapi.json").json_body
    schemas = document["components"]["schemas"]
    assert not FIGURES & set(schemas["PublicVideo"]["properties"])
    assert not FIGURES & set(schemas["PreviewVideo"]["properties"])
    assert set(schemas["AdminVideo"]["properties"]) >= FIGURES

    def answer_of(path: str, method: str) -> Any:
        return document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]

    refs = {option["$ref"].rsplit("/", 1)[1] for option in answer_of("/api/videos/{video_id}", "get")["anyOf"]}
    assert refs == {"AdminVideo", "PublicVideo"}
    assert answer_of("/api/videos/{video_id}", "patch")["$ref"].endswith("/AdminVideo")
