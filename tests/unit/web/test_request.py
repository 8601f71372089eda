"""Reading a body: pydantic's own JSON parser for valid bodies, the same values as reading the JSON apart."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain import errors
from chalicelib.schemas.tracking import EventBody, HeartbeatBody, ViewBody
from chalicelib.web.request import json_payload, parse_body, validate
from scripts.apigw import proxy_event

BODIES: list[tuple[Any, str]] = [
    (HeartbeatBody, '{"viewId": 1, "viewToken": "t.202612", "watchTimeSeconds": 20, "position": 12.5}'),
    (HeartbeatBody, '{"viewId": 1, "viewToken": "t", "watchTimeSeconds": 20.0, "qoe": {"startupTimeMs": 400}}'),
    (HeartbeatBody, '{"viewId": 1, "viewId": 2, "viewToken": "t", "watchTimeSeconds": 1, "unknown": [1, {"a": 2}]}'),
    (HeartbeatBody, '{"viewId": 1, "viewToken": "t", "watchTimeSeconds": 1e1, "ended": true}'),
    (EventBody, '{"videoId": 3, "eventType": "seek", "timestamp": 0}'),
    (ViewBody, '{"videoId": 3, "referer": "https://site.example/caf\\u00e9?x=1", "consent": true}'),
    (ViewBody, '\ufeff{"videoId": 3}'),  # a byte order mark, as json.loads takes it from bytes
]


@pytest.mark.parametrize(("model", "raw"), BODIES)
def test_a_valid_body_reads_as_the_json_read_apart(model: Any, raw: str) -> None:
    request = _request(raw)
    assert parse_body(request, model) == validate(model, json_payload(request))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "Request body is not valid JSON"),
        ('{"videoId": NaN}', "Request body is not valid JSON"),
        ('{"videoId": 3, "x": ' + "[" * 40 + "]" * 40 + "}", "Request body is nested more than 32 levels deep"),
        ("[]", "Request body must be a JSON object"),
    ],
)
def test_an_invalid_body_is_refused_in_the_words_clients_know(raw: str, message: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        parse_body(_request(raw), ViewBody)
    assert refused.value.message == message


def _request(raw: str) -> Any:
    from chalice.app import Request

    return Request(proxy_event("POST", "/api/track/view", body=raw))
