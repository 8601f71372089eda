"""Powertools Logger and Metrics shared by every module (one instance each per container),
and :func:`event_function`, the one wrapper every event-driven Lambda function runs in."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

SERVICE_NAME = "media-api"
METRICS_NAMESPACE = "MediaApi"

# Keys every line carries; the text format shows only the time, level, message and the rest.
_STANDARD_KEYS = frozenset({"level", "location", "message", "timestamp", "service", "sampling_rate", "xray_trace_id"})
_EXCEPTION_KEYS = frozenset({"exception", "exception_name", "stack_trace"})


def text_line(entry: dict[str, Any]) -> str:
    """One log entry as a line a person reads (``LOG_FORMAT=text``, what `make dev` sets)."""
    extras = " ".join(
        f"{key}={value}"
        for key, value in entry.items()
        if key not in _STANDARD_KEYS | _EXCEPTION_KEYS and not key.startswith(("function_", "cold_start"))
    )
    when = str(entry.get("timestamp", ""))[11:23]
    line = f"{when} {entry.get('level', ''):<7} {entry.get('message', '')}" + (f"  {extras}" if extras else "")
    return f"{line}\n{entry['exception']}" if entry.get("exception") else line


def _format_options() -> dict[str, Any]:
    """JSON lines for CloudWatch (the default); ``LOG_FORMAT=text`` for a terminal. ``LOG_LEVEL`` sets the level."""
    import os

    options: dict[str, Any] = {}
    if os.environ.get("LOG_FORMAT", "").strip().lower() == "text":
        options["json_serializer"] = text_line
    level = os.environ.get("LOG_LEVEL", "").strip().upper()
    if level and not os.environ.get("POWERTOOLS_LOG_LEVEL"):
        options["level"] = level
    return options


logger = Logger(service=SERVICE_NAME, **_format_options())
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def event_function(handler: Handler) -> Handler:
    """Give an event-driven function its log context and flush its metrics, however it is invoked.

    ``chalice package`` points these functions' handlers straight at their Blueprint
    modules (``chalicelib.functions.*``), so middleware registered on the app never runs
    for them in AWS (aws/chalice#1566). Applied under the Chalice decorator, this runs in
    every path: Lambda, the local dispatcher and tests. Chalice calls a
    ``@lambda_function`` with ``(event, context)`` and the other event sources with one
    event object that carries ``.context``.
    """

    @functools.wraps(handler)
    def wrapper(*args: Any) -> Any:
        context = args[1] if len(args) > 1 else getattr(args[0], "context", None)
        try:
            if context is None:
                return _timed(handler, args)
            run = logger.inject_lambda_context(lambda _event, _context: _timed(handler, args), clear_state=True)
            return run({}, context)
        finally:
            publish_metrics()

    return wrapper  # type: ignore[return-value]


def publish_metrics() -> None:
    """Print the EMF metrics gathered so far, if any (an empty flush only warns "No application metrics")."""
    if metrics.metric_set:
        metrics.flush_metrics(raise_on_empty_metrics=False)


def _timed(handler: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run the handler; one log line per invocation says which, how long, and whether it failed."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        result = handler(*args)
        outcome = "finished"
        return result
    finally:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        logger.info(f"Event function {outcome}", extra={"function": handler.__name__, "duration_ms": elapsed})
