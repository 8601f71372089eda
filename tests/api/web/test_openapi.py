"""The OpenAPI document: valid 3.1, complete, and built from the models that validate requests,
so answers conform to it (the fuzzer in tests/integration/test_fuzz.py checks every operation)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.support.api import json_body


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.http.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json_body


def conforms(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Validate ``body`` against the document's schema for that answer."""
    schema = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": document["components"]}).validate(body)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert set(document["components"]["schemas"]["ErrorAnswer"]["properties"]) == {"error", "message"}


def test_every_route_the_app_serves_is_documented(document: dict[str, Any]) -> None:
    from app import app

    served = {
        (path, method.lower()) for path, methods in app.routes.items() for method in methods if method != "OPTIONS"
    }
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert served == documented
    assert len({op["operationId"] for methods in document["paths"].values() for op in methods.values()}) == len(served)


def test_auth_modes_are_declared(document: dict[str, Any]) -> None:
    operations = {(p, m): op for p, methods in document["paths"].items() for m, op in methods.items()}
    assert operations[("/api/videos", "post")]["security"] == [{"bearerAuth": []}]
    assert operations[("/api/videos", "get")]["security"] == [{}, {"bearerAuth": []}]
    assert operations[("/api/health", "get")]["security"] == [{}, {"bearerAuth": []}]  # admins see the details
    assert "security" not in operations[("/api/openapi.json", "get")]
    for (path, _method), operation in operations.items():
        if path.startswith("/api/track/") or path in (
            "/api/health",
            "/api/openapi.json",
            "/api/videos/preview/{token}",
        ):
            continue
        if operation.get("security") == [{"bearerAuth": []}]:
            assert {"401", "403", "429"} <= set(operation["responses"])


def test_request_schemas_are_the_validating_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    update = schemas["UpdateVideoBody"]
    assert update["additionalProperties"] is False  # an unknown field is a 400
    assert set(update["properties"]) == {"title", "producer", "creator", "thumbnailUrl", "isPublished"}
    view = schemas["ViewBody"]
    assert view["required"] == ["videoId"] and view["properties"]["videoId"]["exclusiveMinimum"] == 0
    beacon = document["paths"]["/api/track/view"]["post"]["requestBody"]["content"]
    assert set(beacon) == {"application/json", "text/plain"}
    listing = {p["name"]: p for p in document["paths"]["/api/videos"]["get"]["parameters"]}
    assert listing["limit"]["schema"]["maximum"] == 100 and listing["limit"]["in"] == "query"
    video_id = document["paths"]["/api/videos/{video_id}"]["get"]["parameters"][0]
    assert (video_id["in"], video_id["schema"]["type"]) == ("path", "integer")


def test_answers_conform_to_their_documented_schemas(
    client: Any, document: dict[str, Any], admin_headers: dict[str, str], create_video: Any
) -> None:
    video = create_video(published=True)
    listing = client.http.get("/api/videos", headers=admin_headers)
    conforms(document, "/api/videos", "get", 200, listing.json_body)
    single = client.http.get(f"/api/videos/{video['id']}")
    conforms(document, "/api/videos/{video_id}", "get", 200, single.json_body)
    health = client.http.get("/api/health")
    conforms(document, "/api/health", "get", health.status_code, health.json_body)
    overview = client.http.get("/api/videos/analytics/overview", headers=admin_headers)
    conforms(document, "/api/videos/analytics/overview", "get", 200, overview.json_body)
    report = client.http.get(f"/api/videos/{video['id']}/analytics", headers=admin_headers)
    conforms(document, "/api/videos/{video_id}/analytics", "get", 200, report.json_body)
    missing = client.http.patch("/api/videos/999999", headers=admin_headers, body=json_body({"title": "x"}))
    conforms(document, "/api/videos/{video_id}", "patch", 404, missing.json_body)


def test_the_document_is_cached_and_cacheable(client: Any) -> None:
    first = client.http.get("/api/openapi.json")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert json.loads(first.body) == client.http.get("/api/openapi.json").json_body


def test_the_readme_route_table_is_the_documents() -> None:
    """The README's route reference is generated from the document; regenerate it when a route changes."""
    from scripts.route_table import readme_table, table

    assert readme_table() == table(), "run: python -m scripts.route_table --write"
