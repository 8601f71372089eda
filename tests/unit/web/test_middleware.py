"""The HTTP middleware every API function shares, on a tiny app built the way the API is."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.entry import build_api
from scripts.apigw import LambdaContext, proxy_event


def test_each_requests_log_lines_carry_its_lambda_context() -> None:
    """As Powertools' ``inject_lambda_context`` gives a handler: the function and the request id among the
    keys of every line the request logs, the next request's id for the next request, nothing left over."""
    from chalicelib.observability import logger

    blueprint = Blueprint(__name__)
    seen: list[dict[str, Any]] = []

    @blueprint.route("/logs", methods=["GET"])
    def logs() -> dict[str, Any]:
        seen.append(dict(logger.get_current_keys()))
        logger.append_keys(left_by_this_request=True)
        return {}

    app = build_api(blueprint)
    contexts = [LambdaContext(), LambdaContext()]
    for context in contexts:
        assert app(proxy_event("GET", "/api/logs"), context)["statusCode"] == 200
    assert [keys["function_request_id"] for keys in seen] == [context.aws_request_id for context in contexts]
    assert {keys["function_name"] for keys in seen} == {LambdaContext.function_name}
    assert all("cold_start" in keys for keys in seen)
    assert "left_by_this_request" not in seen[1]
