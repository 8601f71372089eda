"""The local stand-in for EventBridge Scheduler's firing (a ``make dev`` companion).

LocalStack and moto store schedules but never fire them, and LocalStack cannot
run Lambda functions here. So, every couple of seconds, this lists the due
one-shot schedules in the emulator (``AWS_ENDPOINT_URL``), invokes the same
Chalice handler in-process with the exact ``Input`` JSON Scheduler would send
(placeholders filled in), then deletes the schedule as ``ActionAfterCompletion:
DELETE`` would. A handler error is retried on later ticks (as Lambda retries an
asynchronous invocation) and, once retries are spent, the event goes to the
schedule's dead-letter queue and the schedule is removed.

It also stands in for Lambda's SQS event source mappings of every ``@on_sqs_message``
function (S3 ObjectCreated under ``videos/`` → ingest queue → ``ingest_uploaded_video``;
thumbnail queue → ``make_video_thumbnail``): each tick it receives a few messages of
each queue and hands each one (``batch_size=1``) to the same handler, deleting it on
success and leaving it on failure, so the queue's visibility timeout and redrive
policy retry it and finally dead-letter it.

And it stands in for the EventBridge rules of the app's ``@schedule`` functions
(``refresh_video_analytics``, ``analytics_retention``, ``reconcile_video_schedules``
and any added later) through :class:`scripts.local_schedules.LocalScheduleRunner`:
each tick it runs the ones that are due, with a ``rate()`` capped at 60 s locally
and every ``rate()`` run once at start (see that module for the cadence rules).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from chalicelib.adapters import scheduler
from chalicelib.config import get_settings
from chalicelib.functions.ingest import INGEST
from chalicelib.observability import logger
from chalicelib.services.scheduling.execution import HANDLER_NAME
from chalicelib.services.scheduling.times import iso, parse_at_expression
from scripts.local_schedules import LocalScheduleRunner, ScheduleExpressionError

# Lambda retries a failed asynchronous invocation twice.
HANDLER_RETRIES = 2
_attempts: dict[tuple[str, str], int] = {}
_fired_without_delete: set[tuple[str, str]] = set()
# Messages taken per tick and queue; each is still its own invocation, as with batch_size=1.
RECEIVE_BATCH = 5


def invoke_handler(payload: Mapping[str, Any]) -> Any:
    """Run ``publish_scheduled_video`` the way Lambda would: through the Chalice app, with a context."""
    from chalice.local import LambdaContext

    from app import app

    handler = app.handler_map[HANDLER_NAME]
    return handler(dict(payload), LambdaContext(HANDLER_NAME, memory_size=256))


def dispatch_due(now: datetime | None = None) -> int:
    """Fire every due one-shot schedule of the group once; returns how many the handler completed."""
    now = now or datetime.now(UTC)
    settings = get_settings()
    completed = 0
    for summary in scheduler.list_schedules(settings):
        if summary.get("State", "ENABLED") != "ENABLED":
            continue
        schedule = scheduler.get_schedule(str(summary["Name"]), settings)
        if schedule is None:
            continue
        due = parse_at_expression(
            str(schedule.get("ScheduleExpression", "")), schedule.get("ScheduleExpressionTimezone")
        )
        if due is not None and due <= now and _deliver(schedule, due, now):
            completed += 1
    return completed


def scheduler_input(schedule: Mapping[str, Any], due: datetime) -> str:
    """The target input as Scheduler sends it, with its context placeholders filled in."""
    text = str(schedule.get("Target", {}).get("Input") or "{}")
    return text.replace("<aws.scheduler.scheduled-time>", iso(due)).replace(
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
    current = scheduler.get_schedule(str(schedule["Name"]), settings)
    if current is None:
        return
    same = current.get("ScheduleExpression") == schedule.get("ScheduleExpression") and current.get("Target", {}).get(
        "Input"
    ) == schedule.get("Target", {}).get("Input")
    if same:
        scheduler.delete_schedule(str(schedule["Name"]), settings)


def _give_up(schedule: Mapping[str, Any], text: str, reason: str) -> None:
    """Retries spent: send the event to the schedule's dead-letter queue and drop the schedule."""
    _attempts.pop((str(schedule["Name"]), text), None)
    dlq_arn = schedule.get("Target", {}).get("DeadLetterConfig", {}).get("Arn")
    if dlq_arn:
        from chalicelib.adapters.aws import client

        sqs = client("sqs")
        queue_url = sqs.get_queue_url(QueueName=str(dlq_arn).rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=text,
            MessageAttributes={"ERROR_MESSAGE": {"DataType": "String", "StringValue": reason[:1000]}},
        )
    logger.error("Schedule dead-lettered", extra={"schedule": schedule.get("Name"), "reason": reason})
    _delete_if_unchanged(schedule)


def invoke_queue_handler(name: str, event: Mapping[str, Any]) -> Any:
    """Run the SQS-triggered function ``name`` the way Lambda would: through the Chalice app, with a context."""
    from chalice.local import LambdaContext

    from app import app

    return app.handler_map[name](dict(event), LambdaContext(name, memory_size=512))


def queue_functions() -> list[tuple[str, str]]:
    """``(queue name, function name)`` of every ``@on_sqs_message`` function of the app."""
    from chalice.app import SQSEventConfig

    from app import app

    return [(str(source.queue), source.name) for source in app.event_sources if isinstance(source, SQSEventConfig)]


def dispatch_ingest() -> int:
    return dispatch_queue(INGEST.queue_name, INGEST.name)


def dispatch_queue(queue_name: str, function_name: str) -> int:
    """Receive a few messages (short poll) and invoke the function once per message.

    Returns how many the handler completed. A message is deleted only on success:
    on an exception it stays in flight until the visibility timeout, is received
    again, and goes to the dead-letter queue after ``maxReceiveCount`` receives.
    """
    from chalicelib.adapters.aws import client

    sqs = client("sqs")
    queue_url = str(sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])
    reply = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=RECEIVE_BATCH,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = reply.get("Messages", [])
    if not messages:
        return 0
    queue_arn = str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    completed = 0
    for message in messages:
        if _deliver_message(function_name, sqs_event(message, queue_arn)):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            completed += 1
    return completed


def _deliver_message(function_name: str, event: Mapping[str, Any]) -> bool:
    """Invoke the handler; an exception means "retry later", so it is logged, never raised."""
    message_id = event["Records"][0]["messageId"]
    try:
        invoke_queue_handler(function_name, event)
    except Exception as exc:  # noqa: BLE001 - left in the queue: SQS redelivers, as for Lambda
        logger.warning(
            "Queue handler failed",
            extra={"function": function_name, "message_id": message_id, "error": f"{type(exc).__name__}: {exc}"},
        )
        return False
    logger.info("Dispatched queue message", extra={"function": function_name, "message_id": message_id})
    return True


def sqs_event(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping builds around one received message."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return {"Records": [record]}


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS API message attribute in the camelCase shape Lambda events use (binary as base64)."""
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def _run_step(step: Callable[[], object], failure: str) -> None:
    """Run one kind of work; its failure must not stop the others or the loop."""
    try:
        step()
    except Exception:  # noqa: BLE001 - a dev helper keeps running through emulator hiccups
        logger.exception(failure)


def run_forever(stop: threading.Event, interval: float = 2.0, runner: LocalScheduleRunner | None = None) -> None:
    """Dispatch due schedules and run the due ``@schedule`` functions every ``interval`` seconds, and
    feed each queue to its function on a thread of its own, until ``stop`` is set.

    Settings and clients are re-read first, so variables exported after
    :func:`scripts.local_aws.ensure_resources` are the ones used. The runner is
    made here (after that), and its first tick runs every ``rate()`` function.
    """
    from chalicelib.adapters.aws import reset_clients

    get_settings.cache_clear()
    reset_clients()
    scheduled = runner or _schedule_runner()
    pollers = [
        threading.Thread(target=_poll_queue, args=(stop, queue, name, interval), name=f"queue-{name}", daemon=True)
        for queue, name in queue_functions()
    ]
    for poller in pollers:
        poller.start()
    while not stop.is_set():
        _run_step(dispatch_due, "Dispatch failed")
        if scheduled is not None:
            _run_step(partial(_run_scheduled, scheduled), "Scheduled functions failed")
        stop.wait(interval)
    for poller in pollers:
        poller.join(timeout=interval)


def _poll_queue(stop: threading.Event, queue: str, name: str, interval: float) -> None:
    """One queue's stand-in event source mapping, on its own thread: a ladder that takes minutes to make
    holds up only the ladder queue, never ingest, thumbnails or the schedules."""
    while not stop.is_set():
        _run_step(partial(dispatch_queue, queue, name), f"Queue dispatch failed ({name})")
        stop.wait(interval)


def _schedule_runner() -> LocalScheduleRunner | None:
    """The app's scheduled functions; a bad expression is logged, and publishing and ingest go on without them."""
    try:
        return LocalScheduleRunner()
    except ScheduleExpressionError:
        logger.exception("Scheduled functions not run locally")
        return None


def _run_scheduled(runner: LocalScheduleRunner) -> None:
    runner.run_due(datetime.now(UTC))


def main() -> None:
    """``python -m scripts.local_dispatcher``: run until Ctrl-C."""
    stop = threading.Event()
    try:
        run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
