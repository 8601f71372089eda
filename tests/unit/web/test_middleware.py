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


def test_a_request_that_changes_the_log_keys_leaves_the_next_one_clean() -> None:
    """Keys a request adds or changes, thread-safe ones included, are gone by the next request, as after
    Powertools' reset (which the API skips when the keys are as it set them)."""
    from chalicelib.observability import SERVICE_NAME, logger
    from chalicelib.web.routing import api_route

    blueprint = Blueprint(__name__)
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []
    changes = {"none": lambda: None, "service": lambda: logger.append_keys(service="changed")}
    changes["thread"] = lambda: logger.thread_safe_append_keys(left_in_this_thread=True)
    for name, change in changes.items():

        @api_route(blueprint, f"/keys-{name}", "GET", summary="Change the log keys")
        def keys(ctx: Any, change: Any = change) -> dict[str, Any]:
            seen.append((dict(logger.get_current_keys()), dict(logger.thread_safe_get_current_keys())))
            change()
            return {}

        keys.__name__ = f"keys_{name}"

    app = build_api(blueprint)
    for name in ("none", "service", "none", "thread", "none", "none"):
        assert app(proxy_event("GET", f"/api/keys-{name}"), LambdaContext())["statusCode"] == 200
    assert [keys["service"] for keys, _ in seen] == [SERVICE_NAME] * 6
    assert [thread_keys for _, thread_keys in seen] == [{}] * 6
    assert len({keys["function_request_id"] for keys, _ in seen}) == 6
