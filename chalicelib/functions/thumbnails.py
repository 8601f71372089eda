"""``make_video_thumbnail``: thumbnail queue messages → a poster frame per video.

Its own function because it carries ffmpeg (its own Lambda layer) and runs longer than
a probe; one message per invocation (``batch_size=1``), so a failure retries one video
and, after the queue's ``maxReceiveCount``, parks it in the dead-letter queue.
"""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.functions.declaration import EventFunction, Queue
from chalicelib.observability import event_function
from chalicelib.services import thumbnails

bp = Blueprint(__name__)

# Its candidate frames (THUMBNAIL_TIMEOUT_SECONDS each) must fit its 120 s.
THUMBNAILS = EventFunction(
    "make_video_thumbnail",
    "poster frames with ffmpeg",
    memory=1024,
    timeout=120,
    concurrency=2,
    grants=("ReadMedia", "WriteThumbnails", "DeleteThumbnails"),
    layers=("FfmpegLayer",),
    environment={"FFMPEG_PATH": "/opt/bin/ffmpeg", "THUMBNAIL_TIMEOUT_SECONDS": "25"},
    queue=Queue(thumbnails.THUMBNAIL_QUEUE, "Videos whose poster frame could not be made after 5 attempts."),
)


@bp.on_sqs_message(queue=THUMBNAILS.queue_name, batch_size=1, name=THUMBNAILS.name)
@event_function
def make_video_thumbnail(event: SQSEvent) -> None:
    for record in event:
        for video_id in thumbnails.video_ids_in(record.body):
            thumbnails.make_thumbnail(video_id)
