"""Signed HLS playback: the query string of a playlist URL."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.schemas.base import Query
from chalicelib.web.inputs import QueryInt

# Expiries are epoch seconds; beyond year 9999 nothing is valid.
MAX_EXPIRES = 253_402_300_799


class PlaylistQuery(Query):
    expires: QueryInt = Field(ge=0, le=MAX_EXPIRES, description="When the URL stops working (epoch seconds).")
    signature: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = Field(
        description="The API's signature of the video and expires."
    )
