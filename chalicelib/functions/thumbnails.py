"""``make_video_thumbnail``: thumbnail queue messages → a poster frame per video.

Its own function because it carries ffmpeg (its own Lambda layer) and runs longer than
a probe; one message per invocation (``batch_size=1``), so a failure retries one video
and, after the queue's ``maxReceiveCount``, parks it in the dead-letter queue.
"""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.config import get_settings
from chalicelib.observability import event_function
from chalicelib.services import thumbnails

bp = Blueprint(__name__)

# The queue infra/template.json creates, ``media-api-<stage>-thumbnails``; baked in when packaged.
THUMBNAIL_QUEUE_NAME = get_settings().thumbnail_queue_name


@bp.on_sqs_message(queue=THUMBNAIL_QUEUE_NAME, batch_size=1, name="make_video_thumbnail")
@event_function
def make_video_thumbnail(event: SQSEvent) -> None:
    for record in event:
        for video_id in thumbnails.video_ids_in(record.body):
            thumbnails.make_thumbnail(video_id)
