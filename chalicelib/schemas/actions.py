"""Quick actions: duplicate, preview links and previews."""

from __future__ import annotations

from pydantic import Field

from chalicelib.schemas.base import Answer
from chalicelib.schemas.videos import PublicVideo


class PreviewLink(Answer):
    preview_url: str
    expiry_hours: int


class PreviewVideo(PublicVideo):
    """A preview link's video: the public answer (no analytics), published or not."""

    stream_url_expires_in: int = Field(description="Seconds until streamUrl expires.")
