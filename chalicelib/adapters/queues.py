"""Sending work to an SQS queue by name: the JSON message, and a 503 when the queue cannot be reached.

The caller decides what a message means; this module only delivers it, so a request that
must queue work fails cleanly (the client retries) instead of half-succeeding.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.observability import logger


def send_json(queue_name: str, payload: dict[str, Any], *, what: str) -> None:
    """Send ``payload`` as one JSON message to ``queue_name``; 503 naming ``what`` when SQS is unreachable."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.adapters.aws import client

    sqs = client("sqs")
    try:
        queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(payload))
    except (BotoCoreError, ClientError) as exc:
        logger.warning("Could not send to a queue", extra={"queue": queue_name, "error": type(exc).__name__})
        raise ServiceUnavailable(f"The {what} queue is unavailable, try again shortly") from exc
