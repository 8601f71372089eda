"""What is stored of a viewer: a referrer's scheme, host and a path without parameters, addresses or
secrets, and an IP only as a keyed hash."""

from __future__ import annotations

import pytest

from chalicelib.services.privacy import stored_referrer

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImF1ZCI6Im1lZGlhIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        # ;parameters (servlet session ids, matrix parameters) in any segment
        ("https://shop.example/app;jsessionid=1A2B3C4D/watch", "https://shop.example/app/watch"),
        ("https://shop.example/watch;JSESSIONID=abc;x=1?q=1#f", "https://shop.example/watch"),
        # e-mail addresses, as typed or percent-encoded
        ("https://mail.example/unsubscribe/ann@mail.example", "https://mail.example/unsubscribe"),
        ("https://site.example/u/ann%40mail.example/videos", "https://site.example/u/videos"),
        ("https://site.example/u/ann.lee+news@mail.example.org/", "https://site.example/u/"),
        # JWTs, such as this API's own preview links
        (f"https://media.example/api/videos/preview/{JWT}", "https://media.example/api/videos/preview"),
        # long tokens: hex, UUIDs, base64
        ("https://site.example/reset/3f2a9b7c1d0e4f5a6b7c8d9e0f1a2b3c", "https://site.example/reset"),
        ("https://site.example/v/123e4567-e89b-12d3-a456-426614174000/x", "https://site.example/v/x"),
        ("https://site.example/s/a8Fk29dlL0qPzX7mN3", "https://site.example/s"),
        ("https://site.example/t/dGhpcyBpcyBhIHRva2VuMTIz/", "https://site.example/t/"),
        ("https://site.example/share/clip_Zk3mQ9xW2pL7vB4nT8/", "https://site.example/share/"),
    ],
)
def test_a_referrer_path_keeps_no_parameters_addresses_or_tokens(given: str, stored: str) -> None:
    assert stored_referrer(given) == stored


@pytest.mark.parametrize(
    "kept",
    [
        "https://blog.example/2024/05/17/best-videos-of-2024-part-2",
        "https://x.example/someone/status/1790000000000000000",
        "https://video.example/@channel/videos",
        "https://wiki.example/Donaudampfschifffahrtsgesellschaft",
        "https://shop.example/product/123456",
        "https://blog.example/",
    ],
)
def test_page_names_dates_handles_and_numeric_ids_stay(kept: str) -> None:
    assert stored_referrer(kept) == kept


def test_ip_hash_is_keyed() -> None:
    from chalicelib.services.privacy import keyed_ip_hash

    first = keyed_ip_hash("192.168.1.100", "secret-one")
    assert len(first) == 64 and "192.168" not in first
    assert first != keyed_ip_hash("192.168.1.100", "secret-two")
    import hashlib

    assert first != hashlib.sha256(b"192.168.1.100").hexdigest()


def test_distinct_visitors_are_estimated_within_two_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Visitor keys (a keyed hash of address and browser) hash evenly: the sketch keeps its error."""
    from chalicelib.config import get_settings
    from chalicelib.domain.sketch import Sketch
    from chalicelib.services.privacy import visitor_key

    monkeypatch.setenv("VIDEO_ANALYTICS_VISITOR_SALT_ROTATION", "never")  # no salt: nothing to read
    monkeypatch.setenv("VIDEO_ANALYTICS_IP_HASH_SECRET", "unit-secret")
    get_settings.cache_clear()
    agents = ("Chrome/126 Linux", "Safari iPhone", "Firefox Windows", "Edge Windows")
    keys = {f"i:{visitor_key(f'10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}', agents[n % 4])}" for n in range(100_000)}
    assert len(keys) == 100_000  # no two browsers collapse into one key
    estimate = Sketch.of_keys(sorted(keys)).estimate()
    assert abs(estimate - 100_000) <= 2_000, estimate
    get_settings.cache_clear()
