"""Talking to the API as its clients do: admin tokens, JSON bodies, a valid video to register."""

from __future__ import annotations

import json
import uuid
from typing import Any


def token_for(user_id: int, role: str = "SUPER_ADMIN", ttl: int = 3600) -> str:
    """An access token as the main API issues it, signed with the test secret."""
    from chalicelib.services.auth import issue_access_token

    return issue_access_token(user_id, role, ttl)


def json_body(data: Any) -> bytes:
    return json.dumps(data).encode()


def video_payload(**overrides: Any) -> dict[str, Any]:
    """A ``POST /api/videos`` body with full metadata (a unique filename each time)."""
    payload = {
        "filename": f"videos/{uuid.uuid4().hex}.mp4",
        "title": "Sunrise over the bay",
        "producer": "Harbour Films",
        "creator": "Ana",
        "thumbnailUrl": "https://cdn.example.test/t.jpg",
        "duration": 120,
        "fileSize": 6_000_000_000,
        "width": 1920,
        "height": 1080,
        "hasAudio": True,
    }
    payload.update(overrides)
    return payload
