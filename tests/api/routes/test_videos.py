"""The video library routes against real PostgreSQL: bodies, filters, visibility, cascades."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.db.engine import get_engine
from tests.support.api import json_body, token_for, video_payload
from tests.support.database import make_user

VIDEO_FIELDS = {
    "id",
    "filename",
    "title",
    "producer",
    "creator",
    "thumbnailUrl",
    "streamUrl",
    "streamUrlExpiresAt",
    "playbackUrl",
    "playbackUrlExpiresAt",
    "processingStatus",
    "processingError",
    "duration",
    "fileSize",
    "width",
    "height",
    "orientation",
    "quality",
    "hasAudio",
    "isPublished",
    "scheduledPublishAt",
    "scheduledUnpublishAt",
    "uniqueViewers",
    "totalWatchTimeSeconds",
    "averageWatchTimeSeconds",
    "completionRate",
    "createdAt",
    "updatedAt",
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_create_returns_the_video_with_every_field(client: Any, admin_headers: dict[str, str]) -> None:
    payload = video_payload(filename="library/launch.mp4")
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body(payload))
    assert response.status_code == 201
    video = response.json_body
    assert set(video) == VIDEO_FIELDS
    assert video["filename"] == "library/launch.mp4"
    assert video["fileSize"] == 6_000_000_000 and isinstance(video["fileSize"], int)
    assert (video["orientation"], video["quality"]) == ("H", "FHD")
    assert video["isPublished"] is False
    assert video["averageWatchTimeSeconds"] == 0 and video["completionRate"] == 0
    assert ISO_Z.match(video["createdAt"]) and ISO_Z.match(video["updatedAt"])
    assert video["scheduledPublishAt"] is None


@pytest.mark.parametrize(
    ("width", "height", "orientation", "quality"),
    [
        (640, 480, "H", "SD"),
        (1280, 720, "H", "HD"),
        (1080, 1920, "V", "FHD"),
        (1000, 1000, "H", "HD"),
        (3840, 2160, "H", "UHD"),
        (719, 1280, "V", "SD"),
    ],
)
def test_orientation_and_quality_are_derived(
    client: Any, admin_headers: dict[str, str], width: int, height: int, orientation: str, quality: str
) -> None:
    body = json_body(video_payload(width=width, height=height))
    video = client.http.post("/api/videos", headers=admin_headers, body=body).json_body
    assert (video["orientation"], video["quality"]) == (orientation, quality)


def test_explicit_orientation_and_quality_win(client: Any, admin_headers: dict[str, str]) -> None:
    body = json_body(video_payload(orientation="V", quality="SD"))
    video = client.http.post("/api/videos", headers=admin_headers, body=body).json_body
    assert (video["orientation"], video["quality"]) == ("V", "SD")


def test_duplicate_filename_is_409_and_keeps_the_first(client: Any, admin_headers: dict[str, str]) -> None:
    first = client.http.post("/api/videos", headers=admin_headers, body=json_body(video_payload(filename="a.mp4")))
    second = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body(video_payload(filename="a.mp4", title="Other"))
    )
    assert second.status_code == 409
    assert second.json_body["error"] == "Conflict"
    kept = client.http.get(f"/api/videos/{first.json_body['id']}", headers=admin_headers).json_body
    assert kept["title"] == "Sunrise over the bay"


def test_public_sees_published_only(client: Any, create_video: Any) -> None:
    published = create_video(published=True, title="Public")
    hidden = create_video(title="Hidden")
    listing = client.http.get("/api/videos").json_body
    assert [video["id"] for video in listing["videos"]] == [published["id"]]
    assert listing["total"] == 1
    assert client.http.get(f"/api/videos/{published['id']}").json_body["title"] == "Public"
    response = client.http.get(f"/api/videos/{hidden['id']}")
    assert response.status_code == 404
    assert response.json_body == {"error": "NotFound", "message": "Video not found"}
    # A public caller cannot widen the listing with the published filter.
    assert client.http.get("/api/videos?published=false").json_body["total"] == 1


def test_admin_sees_everything_with_filters(client: Any, create_video: Any, admin_headers: dict[str, str]) -> None:
    create_video(published=True, title="Harbour", width=1920, height=1080)
    create_video(title="Street", producer="Lens Co", width=1080, height=1920)
    create_video(title="Archive", creator="Zoë", width=640, height=480)
    get = lambda query: client.http.get(f"/api/videos{query}", headers=admin_headers).json_body  # noqa: E731
    assert get("")["total"] == 3
    assert [v["title"] for v in get("?published=true")["videos"]] == ["Harbour"]
    assert [v["title"] for v in get("?published=false")["videos"]] == ["Archive", "Street"]
    assert [v["title"] for v in get("?orientation=V")["videos"]] == ["Street"]
    assert [v["title"] for v in get("?quality=SD")["videos"]] == ["Archive"]
    assert [v["title"] for v in get("?search=lens%20co")["videos"]] == ["Street"]
    assert [v["title"] for v in get("?search=ZO%C3%8B")["videos"]] == ["Archive"]
    assert get("?search=%25")["total"] == 0  # LIKE wildcards are literal


def test_pagination_newest_first(client: Any, create_video: Any, admin_headers: dict[str, str]) -> None:
    ids = [create_video(title=f"v{i}")["id"] for i in range(5)]
    page = client.http.get("/api/videos?limit=2&offset=1", headers=admin_headers).json_body
    assert [video["id"] for video in page["videos"]] == [ids[3], ids[2]]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    default = client.http.get("/api/videos", headers=admin_headers).json_body
    assert default["limit"] == 20 and default["offset"] == 0


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "offset=-1", "orientation=X", "quality=4K", "published=maybe"]
)
def test_bad_query_parameters_are_400(client: Any, admin_headers: dict[str, str], query: str) -> None:
    response = client.http.get(f"/api/videos?{query}", headers=admin_headers)
    assert response.status_code == 400
    assert response.json_body["error"] == "BadRequest"


def test_patch_updates_allowed_fields(client: Any, create_video: Any, admin_headers: dict[str, str]) -> None:
    video = create_video()
    changes = {"title": "New", "producer": "P", "creator": "C", "thumbnailUrl": "https://x/t.png", "isPublished": True}
    response = client.http.patch(f"/api/videos/{video['id']}", headers=admin_headers, body=json_body(changes))
    assert response.status_code == 200
    updated = response.json_body
    assert {k: updated[k] for k in changes} == changes
    assert updated["filename"] == video["filename"]
    assert updated["updatedAt"] >= video["updatedAt"]


@pytest.mark.parametrize("field", ["filename", "ispublished", "is_published", "duration"])
def test_patch_refuses_fields_it_does_not_know_and_names_them(
    client: Any, create_video: Any, admin_headers: dict[str, str], field: str
) -> None:
    video = create_video(title="Kept")
    response = client.http.patch(
        f"/api/videos/{video['id']}", headers=admin_headers, body=json_body({"title": "Changed", field: False})
    )
    assert response.status_code == 400
    assert field in response.json_body["message"]
    assert client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body["title"] == "Kept"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b"", 400),
        (b'{"isPublished": "yes"}', 400),
        (b'{"title": 5}', 400),
        (b'{"title": "' + b"x" * 600 + b'"}', 422),
    ],
)
def test_patch_bad_bodies(
    client: Any, create_video: Any, admin_headers: dict[str, str], body: bytes, status: int
) -> None:
    video = create_video(title="Before")
    response = client.http.patch(f"/api/videos/{video['id']}", headers=admin_headers, body=body)
    assert response.status_code == status
    assert set(response.json_body) == {"error", "message"}
    assert client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body["title"] == "Before"


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"filename": ""}, 422),
        ({"width": 0}, 422),
        ({"duration": -1}, 422),
        ({"width": "wide"}, 400),
        ({"fileSize": "big"}, 400),
        ({"hasAudio": "yes"}, 400),
        ({"orientation": "X"}, 422),
    ],
)
def test_create_bad_bodies(client: Any, admin_headers: dict[str, str], overrides: dict[str, Any], status: int) -> None:
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body(video_payload(**overrides)))
    assert response.status_code == status
    assert set(response.json_body) == {"error", "message"}
    assert client.http.get("/api/videos", headers=admin_headers).json_body["total"] == 0


def test_create_without_required_metadata_is_400(client: Any, admin_headers: dict[str, str]) -> None:
    response = client.http.post("/api/videos", headers=admin_headers, body=json_body({"title": "no filename"}))
    assert response.status_code == 400
    assert "filename" in response.json_body["message"]


def test_oversized_body_is_413(client: Any, admin_headers: dict[str, str]) -> None:
    body = json_body(video_payload(title="x" * 70_000))
    response = client.http.post("/api/videos", headers=admin_headers, body=body)
    assert response.status_code == 413
    assert response.json_body["error"] == "PayloadTooLarge"


@pytest.mark.parametrize(("raw", "status"), [("abc", 400), ("-1", 400), ("0", 400), ("1.5", 400), ("99999999999", 404)])
def test_malformed_and_unknown_ids(client: Any, admin_headers: dict[str, str], raw: str, status: int) -> None:
    for method in ("get", "patch", "delete"):
        kwargs: dict[str, Any] = {"headers": admin_headers}
        if method == "patch":
            kwargs["body"] = json_body({"title": "x"})
        response = getattr(client.http, method)(f"/api/videos/{raw}", **kwargs)
        assert response.status_code == status, (method, raw)
        assert set(response.json_body) == {"error", "message"}


def test_unknown_id_is_404_for_every_admin_verb(client: Any, admin_headers: dict[str, str]) -> None:
    assert client.http.get("/api/videos/12345", headers=admin_headers).status_code == 404
    assert (
        client.http.patch("/api/videos/12345", headers=admin_headers, body=json_body({"title": "x"})).status_code == 404
    )
    assert client.http.delete("/api/videos/12345", headers=admin_headers).status_code == 404


def test_delete_cascades_analytics_and_history(client: Any, create_video: Any, admin_headers: dict[str, str]) -> None:
    video = create_video(published=True)
    keep = create_video(published=True)
    viewer = make_user(role="USER")
    with get_engine().begin() as connection:
        for video_id in (video["id"], keep["id"]):
            view_id = connection.execute(
                text("INSERT INTO video_views (video_id, user_id) VALUES (:v, :u) RETURNING id"),
                {"v": video_id, "u": viewer},
            ).scalar_one()
            connection.execute(
                text("INSERT INTO video_events (video_id, view_id, event_type, timestamp) VALUES (:v, :w, 'play', 1)"),
                {"v": video_id, "w": view_id},
            )
            connection.execute(
                text(
                    "INSERT INTO video_schedule_history (video_id, action, scheduled_for, status, scheduled_by_user_id)"
                    " VALUES (:v, 'publish', now(), 'completed', :u)"
                ),
                {"v": video_id, "u": viewer},
            )
    response = client.http.delete(f"/api/videos/{video['id']}", headers=admin_headers)
    assert response.status_code == 204
    assert response.body == b""
    assert client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).status_code == 404
    with get_engine().connect() as connection:
        for table in ("video_views", "video_events", "video_schedule_history"):
            rows = connection.execute(text(f"SELECT video_id FROM {table}")).scalars().all()
            assert rows == [keep["id"]], table


def test_json_errors_for_chalice_level_failures(client: Any, admin_headers: dict[str, str]) -> None:
    wrong_method = client.http.put("/api/videos/1", headers=admin_headers, body=b"{}")
    assert wrong_method.status_code == 405
    assert wrong_method.json_body["error"] == "MethodNotAllowed"
    wrong_type = client.http.post(
        "/api/videos", headers={**admin_headers, "Content-Type": "application/xml"}, body=b"<video/>"
    )
    assert wrong_type.status_code == 415
    assert wrong_type.json_body["error"] == "UnsupportedMediaType"


def test_cors_reflects_configured_origins(client: Any, monkeypatch: pytest.MonkeyPatch, create_video: Any) -> None:
    from chalicelib.config import get_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://admin.example.test,https://www.example.test")
    get_settings.cache_clear()
    allowed = client.http.get("/api/videos", headers={"Origin": "https://www.example.test"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.example.test"
    assert allowed.headers["Vary"] == "Origin"
    other = client.http.get("/api/videos", headers={"Origin": "https://evil.example.test"})
    assert not [name for name in other.headers if name.lower().startswith("access-control-")]
    assert other.headers["Vary"] == "Origin"


def test_non_admin_cannot_see_unpublished(client: Any, create_video: Any) -> None:
    hidden = create_video()
    user = make_user(role="USER")
    response = client.http.get(
        f"/api/videos/{hidden['id']}", headers={"Authorization": f"Bearer {token_for(user, 'USER')}"}
    )
    assert response.status_code == 404
