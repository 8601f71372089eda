"""``ingest_uploaded_video``: S3 ObjectCreated notifications (through SQS) → probed ``videos`` rows.

S3 notifies an SQS queue rather than the function, so a failed probe is retried
and, after the queue's ``maxReceiveCount``, parked in its dead-letter queue.
One message per invocation (``batch_size=1``): a failure retries one object.

Outcomes per object: ingested (row created or refreshed); skipped for good when
retrying cannot help (not a video, empty, too large, gone, another bucket);
raised (S3 or ffprobe unavailable) so SQS redelivers it.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.adapters.ffprobe import ProbeTimeout
from chalicelib.config import get_settings
from chalicelib.domain.errors import Gone, NotFound, PayloadTooLarge, Unprocessable
from chalicelib.functions.declaration import EventFunction, Queue
from chalicelib.observability import event_function, logger
from chalicelib.services import ingest

bp = Blueprint(__name__)

# S3 notifies this queue of every ObjectCreated under videos/ (infra/template.json, scripts/local_aws.py).
INGEST = EventFunction(
    "ingest_uploaded_video",
    "probe uploads into videos rows",
    memory=512,
    timeout=60,
    concurrency=5,
    grants=("ReadMedia", "ListMediaBucket", "DeleteVideos", "QueueThumbnails", "QueueLadders"),
    layers=("FfprobeLayer",),
    environment={"FFPROBE_PATH": "/opt/bin/ffprobe", "FFPROBE_TIMEOUT_SECONDS": "50"},
    queue=Queue("ingest", "Uploads that could not be ingested after 5 attempts (S3 or ffprobe kept failing)."),
)
# Deliveries of one message before SQS parks it in the dead-letter queue.
MAX_RECEIVES = INGEST.queue.max_receives if INGEST.queue else 1


@bp.on_sqs_message(queue=INGEST.queue_name, batch_size=1, name=INGEST.name)
@event_function
def ingest_uploaded_video(event: SQSEvent) -> None:
    for record in event:
        handle_notification(record.body, final_attempt=receive_count(record) >= MAX_RECEIVES)


def receive_count(record: Any) -> int:
    attributes = record.to_dict().get("attributes") or {}
    try:
        return int(attributes.get("ApproximateReceiveCount", 1))
    except (TypeError, ValueError):
        return 1


def handle_notification(body: str, *, final_attempt: bool = False) -> list[int]:
    """Ingest every object of one notification; returns the ids of the rows written.

    An object that cannot be a video is refused for good (recorded, deleted, message
    done); S3 or ffprobe trouble raises so SQS delivers the message again, except a
    probe that keeps timing out, which on the last delivery is refused as too long.
    """
    bucket = get_settings().media_bucket
    video_ids = []
    for object_bucket, key in ingest.object_keys_from_notification(body):
        if object_bucket != bucket:
            logger.warning("Ignoring an object of another bucket", extra={"bucket": object_bucket, "key": key})
            continue
        try:
            video_ids.append(ingest.ingest_object(key).video.id)
        except (Unprocessable, PayloadTooLarge, Gone):
            continue  # recorded (or of a deleted video) and deleted by the ingest itself
        except NotFound:
            ingest.record_failure(key, "The object was deleted before it could be ingested")
        except ProbeTimeout:
            if not final_attempt:
                raise
            ingest.record_failure(key, f"Too long to probe: ffprobe timed out on {MAX_RECEIVES} attempts")
    return video_ids
