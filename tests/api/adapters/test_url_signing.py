"""Stream URLs on every video answer: presigned S3 without a CDN (moto S3 over real HTTP, Range
requests answered 206), CloudFront signed URLs with a key group's key when one is configured."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest

from chalicelib.config import get_settings
from tests.support.api import json_body
from tests.support.media import MediaFiles, upload

CDN = "d111111abcdef8.cloudfront.net"


@pytest.fixture
def stored(client: Any, admin_headers: dict[str, str], media_bucket: str, media_files: MediaFiles) -> dict[str, Any]:
    """A published video whose object is in the bucket, and an unpublished one."""
    upload(media_files.landscape, "videos/aa/harbour.mp4")
    created = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "videos/aa/harbour.mp4"})
    )
    video: dict[str, Any] = created.json_body
    client.http.patch(f"/api/videos/{video['id']}", headers=admin_headers, body=json_body({"isPublished": True}))
    upload(media_files.portrait, "videos/bb/draft.mp4")
    client.http.post("/api/videos", headers=admin_headers, body=json_body({"filename": "videos/bb/draft.mp4"}))
    return video


def test_the_public_gets_a_playable_stream_url_for_published_videos_only(
    client: Any, admin_headers: dict[str, str], stored: dict[str, Any], media_files: MediaFiles
) -> None:
    public = client.http.get("/api/videos").json_body["videos"]
    assert [video["filename"] for video in public] == ["videos/aa/harbour.mp4"]
    with urllib.request.urlopen(public[0]["streamUrl"], timeout=10) as stream:
        assert stream.read() == media_files.landscape.read_bytes()
    admin = client.http.get("/api/videos", headers=admin_headers).json_body["videos"]
    assert {video["filename"] for video in admin} == {"videos/aa/harbour.mp4", "videos/bb/draft.mp4"}
    assert all(video["streamUrl"] for video in admin)


def test_a_stream_url_serves_ranges_so_players_can_seek(
    client: Any, stored: dict[str, Any], media_files: MediaFiles
) -> None:
    url = client.http.get(f"/api/videos/{stored['id']}").json_body["streamUrl"]
    request = urllib.request.Request(url, headers={"Range": "bytes=1000-1999"})
    with urllib.request.urlopen(request, timeout=10) as partial:
        assert partial.status == 206
        assert partial.headers["Content-Range"].startswith("bytes 1000-1999/")
        assert partial.read() == media_files.landscape.read_bytes()[1000:2000]


def test_stream_urls_live_for_the_configured_time_and_are_reused_within_a_window(
    client: Any, stored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters import url_signing

    monkeypatch.setenv("VIDEO_STREAM_URL_TTL_SECONDS", "3600")
    get_settings.cache_clear()
    first = client.http.get(f"/api/videos/{stored['id']}").json_body
    expires = time.mktime(time.strptime(first["streamUrlExpiresAt"], "%Y-%m-%dT%H:%M:%S.000Z")) - time.timezone
    assert 3600 <= expires - time.time() <= 3600 + url_signing.WINDOW_SECONDS
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(first["streamUrl"]).query)
    assert 3600 <= int(query["X-Amz-Expires"][0]) <= 3600 + url_signing.WINDOW_SECONDS
    assert client.http.get(f"/api/videos/{stored['id']}").json_body["streamUrl"] == first["streamUrl"]


# --- CloudFront signed URLs -------------------------------------------------------------------


def _key_pem(kind: str) -> tuple[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: Any = ec.generate_private_key(ec.SECP256R1()) if kind == "ecdsa" else rsa.generate_private_key(65537, 2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key.public_key()


def _verify_cloudfront(url: str, public_key: Any) -> int:
    """Check a canned-policy signed URL as CloudFront does; return its expiry."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query["Key-Pair-Id"] == "K2JCJMDEHXQW5F" and query["Hash-Algorithm"] == "SHA256"
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    expires = int(query["Expires"])
    policy = json.dumps(
        {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
        separators=(",", ":"),
    ).encode()
    signature = base64.b64decode(query["Signature"].replace("-", "+").replace("_", "=").replace("~", "/"))
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, policy, ec.ECDSA(hashes.SHA256()))
    else:
        public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA256())
    return expires


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_with_a_cdn_stream_and_thumbnail_urls_are_cloudfront_signed_urls(
    client: Any, create_video: Any, aws: None, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from chalicelib.adapters import secrets, url_signing
    from chalicelib.adapters.aws import client as aws_client

    pem, public_key = _key_pem(kind)
    aws_client("secretsmanager").create_secret(Name="media-api/test/stream-key", SecretString=pem)
    monkeypatch.setenv("VIDEO_STREAM_CDN_DOMAIN", CDN)
    monkeypatch.setenv("VIDEO_STREAM_KEY_PAIR_ID", "K2JCJMDEHXQW5F")
    monkeypatch.setenv("VIDEO_STREAM_PRIVATE_KEY_SECRET", "media-api/test/stream-key")
    get_settings.cache_clear()
    secrets.reset_cache()
    url_signing.reset()
    video = create_video(published=True, filename="videos/cc/Launch day.mp4")

    url = client.http.get(f"/api/videos/{video['id']}").json_body["streamUrl"]
    assert url.startswith(f"https://{CDN}/videos/cc/Launch%20day.mp4?")
    assert _verify_cloudfront(url, public_key) - time.time() >= get_settings().stream_url_ttl_seconds


def test_minting_cdn_urls_calls_aws_once_per_container_not_per_url(
    client: Any, create_video: Any, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is read from Secrets Manager at cold start; signing itself is local."""
    from moto import mock_aws

    from chalicelib.adapters import secrets, url_signing
    from chalicelib.adapters.aws import client as aws_client

    pem, public_key = _key_pem("ecdsa")
    aws_client("secretsmanager").create_secret(Name="stream-key", SecretString=pem)
    for name, value in (("VIDEO_STREAM_CDN_DOMAIN", CDN), ("VIDEO_STREAM_KEY_PAIR_ID", "K2JCJMDEHXQW5F")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VIDEO_STREAM_PRIVATE_KEY_SECRET", "stream-key")
    get_settings.cache_clear()
    secrets.reset_cache()
    url_signing.reset()
    url_signing.signed_url("videos/warm/up.mp4")  # cold start: the one Secrets Manager call
    with mock_aws():  # a fresh, empty AWS: any call for the key now would fail
        urls = [url_signing.signed_url(f"videos/{n}/clip.mp4").url for n in range(100)]
    assert len(set(urls)) == 100
    for url in urls[:3]:
        _verify_cloudfront(url, public_key)
