"""The OpenAPI 3.1 document of the API, built from the route declarations themselves.

Every operation comes from a :class:`chalicelib.web.routing.RouteSpec`: the path and
method Chalice serves, the auth mode (the bearer scheme), the pydantic models that
validate its query string and body, and the model its answer is built from. So the
document cannot describe a field the service does not read, or miss one it does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter

from chalicelib.schemas.base import ErrorAnswer
from chalicelib.web.auth import TOKEN_REQUIRED
from chalicelib.web.routing import PATH_PARAMETERS, RouteSpec, spec_of

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
TITLE = "Media API"
DESCRIPTION = (
    "Video library, scheduled publishing, privacy-preserving view tracking and analytics. "
    'Every failure is `{"error": "<Code>", "message": "<text>"}`; 429 and 503 carry `Retry-After`. '
    "Admin operations take `Authorization: Bearer <JWT>` (HS256, issued by the main API, admin role)."
)
REF_TEMPLATE = "#/components/schemas/{model}"
ORIGIN_RULE = (
    "From a web page, only pages on the allowed origins (CORS_ALLOWED_ORIGINS, and the API's own) may send "
    "this: another site's page, beacons and no-cors requests included, is refused with 403 and nothing is "
    "stored. A request with neither Origin nor Referer (a server-side player, a native app) is an app view, "
    "counted apart, unless TRACKING_REQUIRE_ORIGIN=true."
)
REDIRECTS = (301, 302, 307, 308)
_STATUS_TEXT = {
    400: "Malformed request: not JSON, wrong types, unknown fields, bad ids or dates",
    401: "Missing, malformed, expired or forged token",
    403: "Valid token without the admin role, a view token that does not match, or a page on another site",
    404: "No such resource",
    409: "Conflicts with the current state",
    410: "Expired",
    413: "Body or batch too large",
    415: "Unsupported Content-Type",
    422: "Well-formed but refused by a rule",
    429: "Rate limit exceeded; retry after Retry-After seconds",
    503: "A dependency (database, AWS) is unavailable; retry after Retry-After seconds",
}


def specs_of(app: Any) -> list[tuple[str, RouteSpec]]:
    """``(full path, spec)`` of every declared operation, in path order."""
    found = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in methods.items():
            spec = spec_of(entry.view_function)
            if spec is not None and method != "OPTIONS":
                found.append((path, spec))
    return found


@cache
def document(app: Any) -> dict[str, Any]:
    """The document (built once per container; routes do not change at run time)."""
    specs = specs_of(app)
    schemas = _Schemas(specs)
    paths: dict[str, dict[str, Any]] = {}
    for path, spec in specs:
        paths.setdefault(path, {})[spec.method.lower()] = _operation(path, spec, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": API_VERSION, "description": DESCRIPTION},
        "tags": [{"name": tag} for tag in sorted({spec.tag for _, spec in specs})],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


class _Schemas:
    """JSON Schemas of every model, made in one pass so a shared model becomes one component."""

    def __init__(self, specs: list[tuple[str, RouteSpec]]) -> None:
        inputs: dict[tuple[int, str], tuple[Any, str]] = {
            (id(ErrorAnswer), "serialization"): (ErrorAnswer, "serialization")
        }
        for _, spec in specs:
            for model, mode in (
                (spec.body, "validation"),
                (spec.query, "validation"),
                (spec.response, "serialization"),
            ):
                if model is not None:
                    inputs[(id(model), mode)] = (model, mode)
        generated, definitions = TypeAdapter.json_schemas(
            [(key, mode, TypeAdapter(model)) for key, (model, mode) in inputs.items()],  # type: ignore[misc]
            ref_template=REF_TEMPLATE,
        )
        self._by_key = {key: schema for (key, _mode), schema in generated.items()}
        self.components: dict[str, Any] = definitions.get("$defs", {})

    def request(self, model: Any) -> dict[str, Any]:
        return self._by_key[(id(model), "validation")]

    def answer(self, model: Any) -> dict[str, Any]:
        return self._by_key[(id(model), "serialization")]

    def resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema itself rather than a ``$ref`` to its component."""
        ref = schema.get("$ref")
        return self.components[ref.rsplit("/", 1)[-1]] if ref else schema


def _operation(path: str, spec: RouteSpec, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": _path_parameters(path) + _query_parameters(spec, schemas),
        "responses": _responses(path, spec, schemas),
    }
    description = spec.description + (f"\n\n{ORIGIN_RULE}" if spec.origin_bound else "")
    if description.strip():
        operation["description"] = description.strip()
    if spec.auth in TOKEN_REQUIRED:
        operation["security"] = [{"bearerAuth": []}]
        operation["x-auth"] = spec.auth  # "user": any valid token, the route checks whose data it may reach
    elif spec.auth == "optional":
        operation["security"] = [{}, {"bearerAuth": []}]
    if spec.body is not None:
        operation["requestBody"] = _request_body(spec, schemas.request(spec.body))
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": PATH_PARAMETERS[name].description,
            "schema": PATH_PARAMETERS[name].schema,
        }
        for name in names
    ]


def _query_parameters(spec: RouteSpec, schemas: _Schemas) -> list[dict[str, Any]]:
    if spec.query is None:
        return []
    model: type[BaseModel] = spec.query
    properties = schemas.resolved(schemas.request(model)).get("properties", {})
    parameters = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        schema = dict(properties.get(key, {}))
        description = schema.pop("description", None) or field.description
        schema.pop("title", None)
        parameter: dict[str, Any] = {"name": key, "in": "query", "required": field.is_required(), "schema": schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _request_body(spec: RouteSpec, schema: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for content_type in spec.content_types:
        if content_type == "application/json":
            content[content_type] = {"schema": schema}
        else:  # sendBeacon's text/plain: the same JSON, as text
            content[content_type] = {
                "schema": {"type": "string", "contentMediaType": "application/json", "contentSchema": schema}
            }
    return {"required": True, "content": content}


def _responses(path: str, spec: RouteSpec, schemas: _Schemas) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in (spec.status, *spec.other_success):
        if status in REDIRECTS:
            location = {"Location": {"schema": {"type": "string"}, "description": "Where it is now"}}
            responses[str(status)] = {"description": "Moved", "headers": location}
        elif status == 204 or (spec.response is None and spec.produces == ("application/json",)):
            responses[str(status)] = {"description": "Done"}
        else:
            responses[str(status)] = {"description": "Success", "content": _success_content(spec, schemas)}
    error = {"$ref": REF_TEMPLATE.format(model="ErrorAnswer")}
    for status in _error_statuses(path, spec):
        if str(status) in responses:  # health answers 503 with its own report
            continue
        answer: dict[str, Any] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": error}},
        }
        if status in (429, 503):
            answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}}
        responses[str(status)] = answer
    responses["default"] = {"description": "Any other failure", "content": {"application/json": {"schema": error}}}
    return responses


def _success_content(spec: RouteSpec, schemas: _Schemas) -> dict[str, Any]:
    """JSON by the route's answer model; any other type it produces (HTML, JavaScript, XML) as text."""
    content: dict[str, Any] = {}
    for content_type in spec.produces:
        if content_type == "application/json" and spec.response is not None:
            content[content_type] = {"schema": schemas.answer(spec.response)}
        else:
            content[content_type] = {"schema": {"type": "string"}}
    return content


def _error_statuses(path: str, spec: RouteSpec) -> list[int]:
    statuses = {503, *spec.extra_statuses}
    if spec.origin_bound:
        statuses.add(403)
    if spec.body is not None or spec.query is not None or "{" in path:
        statuses.add(400)
    if spec.body is not None:
        statuses.update({413, 415, 422})
    if spec.auth in TOKEN_REQUIRED:
        statuses.update({401, 403, 429})
    if "{" in path:
        statuses.add(404)
    return sorted(statuses)
