"""The rendition ladder's functions.

* ``make_video_ladder`` (ladder queue, one message per invocation): makes a video's ladder
  with ffmpeg, or submits its MediaConvert job (``VIDEO_TRANSCODER``). It carries ffprobe
  and ffmpeg (both layers: 67 + 75 + 76 MB of Lambda's 250), 10 GB of memory (6 vCPUs) and
  10 GB of /tmp, and runs up to Lambda's 15 minutes; ffmpeg stops at
  ``VIDEO_FFMPEG_TIMEOUT_SECONDS`` (840) so the video is failed with a reason, never left
  half-made. Three deliveries, then the dead-letter queue.
* ``record_video_ladder`` (EventBridge rule on "MediaConvert Job State Change", COMPLETE
  or ERROR): records what a job made.
* ``sweep_video_media`` (every 10 minutes): asks a ladder for every video nothing asked for
  (the backfill of the library, resumable, and repairs) and purges the media of deleted
  videos that could not be removed at once.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.functions.declaration import EventFunction, Queue
from chalicelib.functions.ingest import receive_count
from chalicelib.observability import event_function, logger
from chalicelib.services import media_removal, thumbnails, transcoding

bp = Blueprint(__name__)

SWEEP_RATE = "rate(10 minutes)"
LADDER = EventFunction(
    "make_video_ladder",
    "make each video's HLS ladder (ffmpeg) or submit its MediaConvert job",
    memory=10_240,
    timeout=900,
    concurrency=2,
    ephemeral_storage_mb=10_240,
    grants=(
        "ReadMedia",
        "ListMediaBucket",
        "WriteRenditions",
        "DeleteRenditions",
        "SubmitTranscodeJobs",
        "PassMediaConvertRole",
    ),
    layers=("FfprobeLayer", "FfmpegLayer"),
    environment={
        "FFPROBE_PATH": "/opt/bin/ffprobe",
        "FFMPEG_PATH": "/opt/bin/ffmpeg",
        "VIDEO_FFMPEG_TIMEOUT_SECONDS": "840",
        "VIDEO_MEDIACONVERT_ROLE_ARN": {"Fn::GetAtt": ["MediaConvertRole", "Arn"]},
    },
    queue=Queue(
        transcoding.LADDER_QUEUE,
        "Videos whose ladder could neither be made nor submitted after 3 attempts (see the function's logs).",
        max_receives=3,
        local_visibility_timeout=900,
    ),
)
RECORD = EventFunction(
    "record_video_ladder",
    "record what a MediaConvert job made",
    memory=256,
    timeout=60,
    grants=("ReadMedia", "ListMediaBucket", "DeleteRenditions"),
)
SWEEP = EventFunction(
    "sweep_video_media",
    "ask ladders for waiting videos (the backfill) and purge deleted videos' media",
    memory=256,
    timeout=300,
    grants=("QueueLadders", "ListMediaBucket", "DeleteVideos", "DeleteThumbnails", "DeleteRenditions"),
)
JOB_STATE_CHANGES = {
    "source": ["aws.mediaconvert"],
    "detail-type": ["MediaConvert Job State Change"],
    "detail": {"status": ["COMPLETE", "ERROR"]},
}


@bp.on_sqs_message(queue=LADDER.queue_name, batch_size=1, name=LADDER.name)
@event_function
def make_video_ladder(event: SQSEvent) -> None:
    max_receives = LADDER.queue.max_receives if LADDER.queue else 1
    for record in event:
        for video_id in thumbnails.video_ids_in(record.body):
            outcome = transcoding.make_ladder(video_id, final_attempt=receive_count(record) >= max_receives)
            logger.info("Ladder message handled", extra={"video_id": video_id, "outcome": outcome})


@bp.on_cw_event(JOB_STATE_CHANGES, name=RECORD.name)
@event_function
def record_video_ladder(event: CloudWatchEvent) -> str:
    outcome = transcoding.record_job_result(event.to_dict())
    logger.info("MediaConvert result handled", extra={"outcome": outcome})
    return outcome


@bp.schedule(SWEEP_RATE, name=SWEEP.name, description="Backfill ladders and purge deleted videos' media")
@event_function
def sweep_video_media(event: Any) -> dict[str, int]:
    swept = {"laddersRequested": transcoding.request_waiting(), "deletedVideosPurged": media_removal.purge_pending()}
    logger.info("Media swept", extra=swept)
    return swept
