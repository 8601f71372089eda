"""Base classes: how requests are read and answers written."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class RequestBody(BaseModel):
    """An admin request body: camelCase fields only; an unknown field is a 400 that names it.

    Strict, because a misspelt field silently ignored (``{"ispublished": false}`` → 200,
    nothing changed) is worse than an error.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, defer_build=True)


class BeaconBody(BaseModel):
    """A body sent by players (tracking): unknown fields are ignored, since players and
    analytics SDKs add their own."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, defer_build=True)


class Query(BaseModel):
    """A query string; parameters not declared are ignored (cache busters)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class Answer(BaseModel):
    """A JSON answer: snake_case in Python, camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        serialize_by_alias=True,
        defer_build=True,
        # Every field is in every answer (null when empty), so the document marks them all required.
        json_schema_serialization_defaults_required=True,
    )


class ErrorAnswer(Answer):
    """Every failure: a short machine-readable code and a sentence for people."""

    error: str = Field(examples=["BadRequest"])
    message: str


class Success(Answer):
    success: Literal[True] = True


class SuccessWithMessage(Success):
    message: str
