"""``ingest_uploaded_video``: S3 ObjectCreated notifications (through SQS) → probed ``videos`` rows.

S3 notifies an SQS queue rather than the function, so a failed probe is retried
and, after the queue's ``maxReceiveCount``, parked in its dead-letter queue.
One message per invocation (``batch_size=1``): a failure retries one object.

Outcomes per object: ingested (row created or refreshed); skipped for good when
retrying cannot help (not a video, empty, too large, gone, another bucket);
raised (S3 or ffprobe unavailable) so SQS redelivers it.
"""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.config import get_settings
from chalicelib.errors import NotFound, PayloadTooLarge, Unprocessable
from chalicelib.observability import event_function, logger, metrics
from chalicelib.services import ingest

bp = Blueprint(__name__)

# The queue infra/template.json creates, ``media-api-<stage>-ingest``. Chalice bakes
# the name into the event source when it packages, so ``make package`` sets it.
INGEST_QUEUE_NAME = get_settings().ingest_queue_name


@bp.on_sqs_message(queue=INGEST_QUEUE_NAME, batch_size=1, name="ingest_uploaded_video")
@event_function
def ingest_uploaded_video(event: SQSEvent) -> None:
    for record in event:
        handle_notification(record.body)


def handle_notification(body: str) -> list[int]:
    """Ingest every object of one notification; returns the ids of the rows written."""
    bucket = get_settings().media_bucket
    video_ids = []
    for object_bucket, key in ingest.object_keys_from_notification(body):
        if object_bucket != bucket:
            logger.warning("Ignoring an object of another bucket", extra={"bucket": object_bucket, "key": key})
            continue
        try:
            video_ids.append(ingest.ingest_object(key).video.id)
        except (Unprocessable, PayloadTooLarge, NotFound) as exc:
            _record_rejection(key, exc)
    return video_ids


def _record_rejection(key: str, exc: Exception) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name="IngestRejected", unit=MetricUnit.Count, value=1)
    logger.warning("Object not ingested", extra={"key": key, "reason": str(exc), "error": type(exc).__name__})
