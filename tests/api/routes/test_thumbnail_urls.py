"""Admin-supplied URLs that are our own signed media URLs are stored without their signature and signed
again in every answer: a GET-then-PATCH round trip no longer stores a URL that expires."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.support.api import video_payload
from tests.support.database import sql

POSTER = b"\xff\xd8\xff\xe0 a poster frame"


@pytest.fixture
def poster(media_bucket: str) -> str:
    from chalicelib.adapters.aws import client

    key = "thumbnails/round/trip.jpg"
    client("s3").put_object(Bucket=media_bucket, Key=key, Body=POSTER, ContentType="image/jpeg")
    return key


def stored_thumbnail() -> Any:
    [(url,)] = sql("SELECT thumbnail_url FROM videos")
    return url


def test_a_get_then_patch_round_trip_stores_the_poster_unsigned(
    client: Any, admin_headers: dict[str, str], create_video: Any, poster: str
) -> None:
    video = create_video(thumbnailUrl=None)
    sql("UPDATE videos SET thumbnail_key = :key", key=poster)
    answer = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body
    assert "X-Amz-Signature=" in answer["thumbnailUrl"]
    edit = {name: answer[name] for name in ("title", "producer", "creator", "thumbnailUrl")}
    patched = client.http.patch(f"/api/videos/{video['id']}", headers=admin_headers, body=json.dumps(edit))
    assert patched.status_code == 200, patched.body
    stored = stored_thumbnail()
    assert stored.endswith("/thumbnails/round/trip.jpg") and "?" not in stored and "Signature" not in stored
    again = client.http.get(f"/api/videos/{video['id']}", headers=admin_headers).json_body["thumbnailUrl"]
    assert "X-Amz-Signature=" in again  # signed anew for every answer, so it never expires in the database
    with urllib.request.urlopen(again, timeout=10) as image:
        assert image.read() == POSTER


def test_registering_with_a_signed_url_of_ours_stores_it_unsigned(
    client: Any, admin_headers: dict[str, str], poster: str
) -> None:
    from chalicelib.adapters.url_signing import signed_url

    signed = signed_url(poster).url
    response = client.http.post(
        "/api/videos", headers=admin_headers, body=json.dumps(video_payload(thumbnailUrl=signed))
    )
    assert response.status_code == 201, response.body
    assert "?" not in stored_thumbnail()
    assert "X-Amz-Signature=" in response.json_body["thumbnailUrl"]


def test_an_external_image_is_kept_as_given(client: Any, admin_headers: dict[str, str], media_bucket: str) -> None:
    external = "https://images.example.test/poster.jpg?v=3&sig=abc"
    response = client.http.post(
        "/api/videos", headers=admin_headers, body=json.dumps(video_payload(thumbnailUrl=external))
    )
    assert response.status_code == 201
    assert stored_thumbnail() == external == response.json_body["thumbnailUrl"]


def test_cloudfront_urls_of_the_distribution_are_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import url_signing
    from chalicelib.config import get_settings

    monkeypatch.setenv("VIDEO_STREAM_CDN_DOMAIN", "d111.cloudfront.net")
    get_settings.cache_clear()
    url_signing.reset()
    signed = "https://D111.cloudfront.net/thumbnails/a%20b.jpg?Expires=1&Signature=x~y&Key-Pair-Id=K1"
    assert url_signing.media_key_of(signed) == "thumbnails/a b.jpg"
    assert url_signing.without_signature(signed) == "https://d111.cloudfront.net/thumbnails/a%20b.jpg"
    other = "https://d222.cloudfront.net/thumbnails/x.jpg?Signature=z"
    assert url_signing.media_key_of(other) is None and url_signing.without_signature(other) == other
