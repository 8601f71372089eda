"""API Gateway (REST, proxy integration) events for driving the deployed Lambda entry point in-process.

``chalice.test.Client`` always reports ``127.0.0.1`` as the caller; the rate-limit
tests and the benchmark need many callers, so they build the event API Gateway
would send (with ``requestContext.identity.sourceIp``) and call ``app(event, context)``,
exactly what Lambda does.
"""

from __future__ import annotations

import json
import uuid
from typing import Any


class LambdaContext:
    """The attributes of Lambda's context object that the handler and Powertools read."""

    function_name = "media-api-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:media-api-dev"
    log_group_name = "/aws/lambda/media-api-dev"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def proxy_event(
    method: str,
    resource: str,
    *,
    body: Any = None,
    source_ip: str = "203.0.113.10",
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The event for ``method resource`` (``resource`` is the route template, e.g. ``/api/track/view``)."""
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "}", value)
    raw = body if isinstance(body, str | None) else json.dumps(body)
    all_headers = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": "/api" + path,
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": all_headers.get("user-agent", "")},
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def invoke(app: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Run the Chalice app on one event; return ``(status, headers, parsed JSON body)``."""
    response = app(event, LambdaContext())
    body = response.get("body") or ""
    return int(response["statusCode"]), response.get("headers") or {}, json.loads(body) if body else None
