"""Every vendored browser file (``make assets``) is served by the API itself, with its licence."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.vendor_assets import FILES


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_vendored_file_is_served(client: Any, name: str) -> None:
    response = client.http.get(f"/api/assets/{name}")
    assert response.status_code == 200, response.body
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.body


def test_hls_js_is_the_pinned_light_build_that_defines_the_hls_global(client: Any) -> None:
    response = client.http.get("/api/assets/hls.js")
    assert response.headers["Content-Type"].startswith("text/javascript")
    body = response.body.decode()
    assert "isSupported" in body and "Hls" in body
    licence = client.http.get("/api/assets/hls-LICENSE.txt").body.decode()
    assert "Apache License" in licence
