"""Reading a request: the JSON body and the query string, validated by pydantic models.

A wrong shape (not JSON, nested too deeply, a missing field, a wrong type, an unknown
field in an admin body, text with control characters) is a 400; a well-formed value
the rules refuse (a blank title, a number out of range) is a 422.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice.app import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from chalicelib.domain import errors
from chalicelib.services.auth import Principal
from chalicelib.web.inputs import BAD_REQUEST_ERRORS, strip_forbidden_chars

Model = TypeVar("Model", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024
# Deeper than any body this API accepts; a deeper one is refused before it is walked.
MAX_JSON_DEPTH = 32
USER_AGENT_MAX_CHARS = 1024

# pydantic error types that mean "wrong shape" (400) rather than "wrong value" (422).
_SHAPE_ERRORS = BAD_REQUEST_ERRORS | {
    "missing",
    "model_type",
    "model_attributes_type",
    "dict_type",
    "list_type",
    "string_type",
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "int_from_float",
    "json_invalid",
    "extra_forbidden",
    "datetime_type",
    "datetime_parsing",
    "date_parsing",
    "date_from_datetime_parsing",
    "decimal_type",
    "decimal_parsing",
    "finite_number",
    "union_tag_invalid",
    "union_tag_not_found",
}


@dataclass
class RequestContext:
    """What a view needs from the HTTP request, already authenticated and validated."""

    request: Request
    principal: Principal | None
    body: Any = None
    params: Any = None
    # Where a tracking write comes from: "web" (a page on an allowed site) or "app" (no page named).
    source: str | None = None

    @property
    def requester(self) -> Principal:
        """Who calls a route that requires a token (``auth="admin"`` or ``"user"``)."""
        if self.principal is None:
            raise errors.NotAuthenticated("Authorization: Bearer <token> is required")
        return self.principal

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id if self.principal else None

    @property
    def is_admin(self) -> bool:
        return bool(self.principal and self.principal.is_admin)

    @property
    def client_ip(self) -> str:
        """API Gateway's view of the caller; client-supplied headers are never trusted."""
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")

    @property
    def user_agent(self) -> str:
        """The User-Agent, cleaned of control characters rather than refused (players send what they send)."""
        return strip_forbidden_chars(header(self.request, "user-agent"))[:USER_AGENT_MAX_CHARS]

    def json_payload(self, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
        return json_payload(self.request, max_bytes=max_bytes)


def header(request: Request, name: str) -> str:
    """A request header (case-insensitive), or "" when absent."""
    headers: Any = request.headers
    return str(headers.get(name) or "") if headers is not None else ""


def json_payload(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The body as parsed JSON, whatever its declared type (application/json or text/plain)."""
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise errors.PayloadTooLarge(f"Request body is larger than {max_bytes} bytes")
    if not raw.strip():
        raise errors.InvalidInput("Request body must be a JSON object")
    try:
        text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")
        payload = _DECODER.decode(text)
    except RecursionError as exc:
        raise _too_deep() from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.InvalidInput("Request body is not valid JSON") from exc
    if _could_nest_too_deep(text) and _depth(payload) > MAX_JSON_DEPTH:
        raise _too_deep()
    return payload


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


# What json.loads(raw, parse_constant=...) builds anew on each call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _could_nest_too_deep(text: str | bytes) -> bool:
    """Whether the body opens enough objects and arrays to be too deep (brackets inside strings count too)."""
    if isinstance(text, bytes):
        return text.count(b"{") + text.count(b"[") > MAX_JSON_DEPTH
    return text.count("{") + text.count("[") > MAX_JSON_DEPTH


def _valid_json(model: Any, raw: str | bytes) -> Any:
    """A valid body, validated by pydantic straight from its bytes (cheaper than parsing, walking and
    validating it apart: docs/benchmark.md); None for anything else, which the path that reads the JSON
    itself then refuses in the words clients know."""
    if not raw or len(raw) > MAX_BODY_BYTES or _could_nest_too_deep(raw):
        return None
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate_json(raw)
        return _adapter(model).validate_json(raw)
    except ValidationError:
        return None


def _too_deep() -> errors.InvalidInput:
    return errors.InvalidInput(f"Request body is nested more than {MAX_JSON_DEPTH} levels deep")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, walked without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, level = pending.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_body(request: Request, model: Any) -> Any:
    """The body validated by ``model`` (a pydantic model class or any type a TypeAdapter takes)."""
    validated = _valid_json(model, request.raw_body or b"")
    if validated is not None:
        return validated
    payload = json_payload(request)
    if not isinstance(payload, dict):
        raise errors.InvalidInput("Request body must be a JSON object")
    return validate(model, payload)


def parse_query(request: Request, model: type[Model]) -> Model:
    """The query string validated by ``model``; undeclared parameters (cache busters) are ignored.

    Any invalid parameter is a 400: a query string has no "well-formed but refused" middle ground.
    """
    params: Any = request.query_params or {}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in params:
            values[key] = params.get(key)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise errors.InvalidInput(validation_error(exc).message) from exc


def validate(model: Any, payload: Any) -> Any:
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(payload)
        return _adapter(model).validate_python(payload)
    except ValidationError as exc:
        raise validation_error(exc) from exc


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)
    return adapter


def validation_error(exc: ValidationError) -> errors.DomainError:
    problems = exc.errors(include_url=False, include_input=False)
    message = "; ".join(_describe(problem) for problem in problems[:5])
    if any(problem["type"] in _SHAPE_ERRORS for problem in problems):
        return errors.InvalidInput(message)
    return errors.Unprocessable(message)


def _describe(problem: Any) -> str:
    location = ".".join(str(part) for part in problem.get("loc", ()) if not _is_union_branch(part))
    return f"{location}: {problem.get('msg', 'invalid')}" if location else str(problem.get("msg", "invalid"))


def _is_union_branch(part: Any) -> bool:
    """pydantic names the union member in an error's location (``function-after[...]``); clients need the field."""
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "none"})
