"""The player pages: the embed page's query, and oEmbed's query and answer (oEmbed 1.0, snake_case)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.schemas.base import Query
from chalicelib.web.inputs import QueryInt, Text

MAX_URL_CHARS = 2048
MAX_EMBED_PIXELS = 8192


class EmbedQuery(Query):
    preview: Text | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="A preview token (from the video's preview link): an unpublished video plays with it.",
    )


class OEmbedQuery(Query):
    url: Text = Field(max_length=MAX_URL_CHARS, description="An embed page's URL: `<MEDIA_API_URL>/api/embed/<id>`.")
    maxwidth: QueryInt | None = Field(default=None, ge=1, le=MAX_EMBED_PIXELS)
    maxheight: QueryInt | None = Field(default=None, ge=1, le=MAX_EMBED_PIXELS)
    format: Literal["json", "xml"] = Field(default="json", description="The answer's format: oEmbed's JSON or its XML.")


class OEmbedVideo(BaseModel):
    """An oEmbed ``video`` answer: ``html`` is the ``<iframe>`` of the embed page, sized by the video's aspect."""

    model_config = ConfigDict(defer_build=True, json_schema_serialization_defaults_required=True)

    version: Literal["1.0"] = "1.0"
    type: Literal["video"] = "video"
    provider_name: str
    provider_url: str
    title: str
    html: str
    width: int
    height: int
    thumbnail_url: str | None
    thumbnail_width: int | None
    thumbnail_height: int | None
    cache_age: int = Field(description="Seconds a consumer may keep this answer (its thumbnail URL is signed).")
