"""Optional SNS notifications about scheduled actions (``VIDEO_SCHEDULE_NOTIFICATION_ENABLED``).

A notification is a side channel: failing to send one is logged and never
fails (or retries) the action it reports on.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import get_settings
from chalicelib.observability import logger

SUBJECT_MAX_CHARS = 100  # SNS limit for email subjects


def notify_schedule_outcome(outcome: dict[str, Any]) -> bool:
    """Publish ``outcome`` (videoId, action, status, scheduledFor, historyId, error) to the topic.

    Returns whether a message was sent. ``status`` and ``action`` also go out as
    message attributes so subscribers can filter (e.g. failures only).
    """
    settings = get_settings()
    if not settings.schedule_notification_enabled:
        return False
    if not settings.schedule_notification_topic_arn:
        logger.warning("Schedule notifications enabled but VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN is unset")
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.adapters.aws import client

    status, action = str(outcome.get("status", "")), str(outcome.get("action", ""))
    subject = f"Scheduled {action} of video {outcome.get('videoId')}: {status}"[:SUBJECT_MAX_CHARS]
    try:
        client("sns").publish(
            TopicArn=settings.schedule_notification_topic_arn,
            Subject=subject,
            Message=json.dumps(outcome, separators=(",", ":")),
            MessageAttributes={
                "status": {"DataType": "String", "StringValue": status or "unknown"},
                "action": {"DataType": "String", "StringValue": action or "unknown"},
            },
        )
    except (BotoCoreError, ClientError):
        logger.warning("Could not send a schedule notification", exc_info=True)
        return False
    return True
