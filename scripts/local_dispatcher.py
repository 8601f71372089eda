"""The local stand-in for EventBridge Scheduler's firing (a ``make dev`` companion).

LocalStack and moto store schedules but never fire them, and LocalStack cannot
run Lambda functions here. So, every couple of seconds, this lists the due
one-shot schedules in the emulator (``AWS_ENDPOINT_URL``), invokes the same
Chalice handler in-process with the exact ``Input`` JSON Scheduler would send
(placeholders filled in), then deletes the schedule as ``ActionAfterCompletion:
DELETE`` would. A handler error is retried on later ticks (as Lambda retries an
asynchronous invocation) and, once retries are spent, the event goes to the
schedule's dead-letter queue and the schedule is removed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.config import get_settings
from chalicelib.observability import logger
from chalicelib.services import scheduling

# Lambda retries a failed asynchronous invocation twice.
HANDLER_RETRIES = 2
_attempts: dict[tuple[str, str], int] = {}
_fired_without_delete: set[tuple[str, str]] = set()


def invoke_handler(payload: Mapping[str, Any]) -> Any:
    """Run ``publish_scheduled_video`` the way Lambda would: through the Chalice app, with a context."""
    from chalice.local import LambdaContext

    from app import app

    handler = app.handler_map[scheduling.HANDLER_NAME]
    return handler(dict(payload), LambdaContext(scheduling.HANDLER_NAME, memory_size=256))


def dispatch_due(now: datetime | None = None) -> int:
    """Fire every due one-shot schedule of the group once; returns how many the handler completed."""
    now = now or datetime.now(UTC)
    settings = get_settings()
    completed = 0
    for summary in scheduling.list_schedules(settings):
        if summary.get("State", "ENABLED") != "ENABLED":
            continue
        schedule = scheduling.get_schedule(str(summary["Name"]), settings)
        if schedule is None:
            continue
        due = scheduling.parse_at_expression(
            str(schedule.get("ScheduleExpression", "")), schedule.get("ScheduleExpressionTimezone")
        )
        if due is not None and due <= now and _deliver(schedule, due, now):
            completed += 1
    return completed


def scheduler_input(schedule: Mapping[str, Any], due: datetime) -> str:
    """The target input as Scheduler sends it, with its context placeholders filled in."""
    text = str(schedule.get("Target", {}).get("Input") or "{}")
    return text.replace("<aws.scheduler.scheduled-time>", scheduling.iso(due)).replace(
        "<aws.scheduler.schedule-arn>", str(schedule.get("Arn", ""))
    )


def _deliver(schedule: Mapping[str, Any], due: datetime, now: datetime) -> bool:
    name = str(schedule["Name"])
    text = scheduler_input(schedule, due)
    key = (name, text)
    if key in _fired_without_delete:
        return False
    max_age = int(schedule.get("Target", {}).get("RetryPolicy", {}).get("MaximumEventAgeInSeconds", 86400))
    if now - due > timedelta(seconds=max_age):
        _give_up(schedule, text, "event older than MaximumEventAgeInSeconds")
        return False
    try:
        result = invoke_handler(json.loads(text))
    except Exception as exc:  # noqa: BLE001 - a handler error is retried, as Lambda would
        _attempts[key] = _attempts.get(key, 0) + 1
        logger.warning("Scheduled handler failed", extra={"schedule": name, "attempt": _attempts[key]})
        if _attempts[key] > HANDLER_RETRIES:
            _give_up(schedule, text, f"{type(exc).__name__}: {exc}")
        return False
    _attempts.pop(key, None)
    logger.info("Dispatched schedule", extra={"schedule": name, "result": result})
    _after_completion(schedule, key)
    return True


def _after_completion(schedule: Mapping[str, Any], key: tuple[str, str]) -> None:
    if schedule.get("ActionAfterCompletion") == "DELETE":
        _delete_if_unchanged(schedule)
    else:
        _fired_without_delete.add(key)  # a one-shot schedule fires once, even when it stays listed


def _delete_if_unchanged(schedule: Mapping[str, Any]) -> None:
    """Delete the schedule unless the API replaced it while the handler ran."""
    settings = get_settings()
    current = scheduling.get_schedule(str(schedule["Name"]), settings)
    if current is None:
        return
    same = current.get("ScheduleExpression") == schedule.get("ScheduleExpression") and current.get("Target", {}).get(
        "Input"
    ) == schedule.get("Target", {}).get("Input")
    if same:
        scheduling.delete_schedule(str(schedule["Name"]), settings)


def _give_up(schedule: Mapping[str, Any], text: str, reason: str) -> None:
    """Retries spent: send the event to the schedule's dead-letter queue and drop the schedule."""
    _attempts.pop((str(schedule["Name"]), text), None)
    dlq_arn = schedule.get("Target", {}).get("DeadLetterConfig", {}).get("Arn")
    if dlq_arn:
        from chalicelib.aws import client

        sqs = client("sqs")
        queue_url = sqs.get_queue_url(QueueName=str(dlq_arn).rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=text,
            MessageAttributes={"ERROR_MESSAGE": {"DataType": "String", "StringValue": reason[:1000]}},
        )
    logger.error("Schedule dead-lettered", extra={"schedule": schedule.get("Name"), "reason": reason})
    _delete_if_unchanged(schedule)


def run_forever(stop: threading.Event, interval: float = 2.0, reconcile_every: float = 300.0) -> None:
    """Dispatch due schedules every ``interval`` seconds (and reconcile now and then) until ``stop`` is set.

    Settings and clients are re-read first, so variables exported after
    :func:`scripts.local_aws.ensure_resources` are the ones used.
    """
    from chalicelib.aws import reset_clients

    get_settings.cache_clear()
    reset_clients()
    last_reconcile = time.monotonic()
    while not stop.is_set():
        try:
            dispatch_due()
        except Exception:  # noqa: BLE001 - a dev helper keeps running through emulator hiccups
            logger.exception("Dispatch failed")
        if reconcile_every and time.monotonic() - last_reconcile >= reconcile_every:
            last_reconcile = time.monotonic()
            try:
                scheduling.reconcile()
            except Exception:  # noqa: BLE001
                logger.exception("Reconcile failed")
        stop.wait(interval)


def main() -> None:
    """``python -m scripts.local_dispatcher``: run until Ctrl-C."""
    stop = threading.Event()
    try:
        run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
