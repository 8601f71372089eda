"""The rendition ladder of every video: asked for after ingest, made by a transcoder, recorded.

A video is ``processing`` until its ladder is ``ready`` (its renditions stored, its
``playbackUrl`` served) or ``failed`` (``processingError`` says what an admin can do).
Ingest and duplicate ask for a ladder with a message on the ladder queue; the media sweep
asks for every video nothing asked for (the videos that were in the library before, or
whose message could not be sent), so the backfill is the same path, resumable.

``make_video_ladder`` takes each message: it claims the video (a lease, so a re-delivered
or duplicate message makes no second ladder), probes the original again (rotation, audio,
frame rate), plans the rungs and hands them to the transcoder ``VIDEO_TRANSCODER`` names:

* ``ffmpeg``: makes every rung in one run inside the function, uploads them under
  ``renditions/<video id>/<attempt>/`` and records the ladder;
* ``mediaconvert``: submits one MediaConvert job, whose completion event
  (:func:`record_job_result`) records it.

A result counts only while its attempt is the video's current one: a late or repeated
result, or one for a video deleted meanwhile, removes its own files instead.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from chalicelib.adapters import ffmpeg_ladder, ffprobe, media_storage, media_tools, mediaconvert, queues
from chalicelib.config import get_settings
from chalicelib.db.engine import session_scope
from chalicelib.domain import hls, ladder
from chalicelib.domain.errors import NotFound, ServiceUnavailable, Unprocessable
from chalicelib.observability import logger, metrics
from chalicelib.repositories import ladders as ladders_repo
from chalicelib.repositories.ladders import Claim, NewRendition

# The queue make_video_ladder consumes (chalicelib/functions/ladders.py).
LADDER_QUEUE = "ladder"
RENDITIONS_PREFIX = "renditions"
# An attempt holds its video this long: the ladder function's 15-minute timeout and a minute more.
LEASE_SECONDS = 960
# Videos the sweep asks a ladder for per run (the backfill goes on at the next run).
SWEEP_BATCH = 200
CONTENT_TYPES = {".ts": "video/mp2t", ".m4s": "video/iso.segment", ".mp4": "video/mp4", ".aac": "audio/aac"}


class LadderRefused(Exception):
    """The ladder cannot be made from this original, whatever the retries: the video fails, saying why."""


def video_prefix(video_id: int) -> str:
    """Everything ever made for the video's ladders (what its deletion removes)."""
    return f"{RENDITIONS_PREFIX}/{video_id}/"


def attempt_prefix(video_id: int, token: str) -> str:
    """One attempt's files: never shared with another attempt, so a loser can remove its own."""
    return f"{video_prefix(video_id)}{token}/"


def request_ladder(video_id: int) -> bool:
    """Queue the making of a video's ladder; False when the queue could not be reached (the sweep asks again)."""
    try:
        queues.send_json(get_settings().queue_name(LADDER_QUEUE), {"videoId": video_id}, what="ladder")
    except ServiceUnavailable:
        logger.warning("Ladder not requested; the media sweep will", extra={"video_id": video_id})
        return False
    with session_scope() as session:
        ladders_repo.mark_requested(session, [video_id])
    return True


def recent_failures(limit: int) -> list[ladders_repo.Failure]:
    with session_scope() as session:
        return ladders_repo.failures(session, limit)


def request_waiting(limit: int = SWEEP_BATCH) -> int:
    """Ask a ladder for the videos nothing asked for yet (the backfill, and repairs); how many were asked."""
    with session_scope() as session:
        waiting = ladders_repo.never_requested(session, limit)
    return sum(1 for video_id in waiting if request_ladder(video_id))


def make_ladder(video_id: int, *, final_attempt: bool = False) -> str:
    """Make (ffmpeg) or submit (MediaConvert) a video's ladder; what happened, for the logs.

    Raises :class:`ServiceUnavailable` (S3, ffprobe or the transcoder unreachable) so the
    message comes back, except on its last delivery, which fails the video instead.
    """
    token = secrets.token_hex(8)
    with session_scope() as session:
        claim = ladders_repo.claim(session, video_id, token, LEASE_SECONDS)
    if claim is None:
        return "skipped"  # gone, ready, failed, being made, or a job running
    try:
        source = _probe(claim)
        rungs = ladder.plan(source)
        with session_scope() as session:
            ladders_repo.set_plan(session, claim, [asdict(rung) for rung in rungs])
        return transcoder().start(claim, source, rungs)
    except (LadderRefused, ladder.LadderError) as exc:
        fail(claim.video_id, claim.token, str(exc))
        return "failed"
    except ServiceUnavailable as exc:
        if final_attempt:
            fail(claim.video_id, claim.token, f"The transcoder kept failing ({exc.message}); reprocess the video")
            return "failed"
        with session_scope() as session:
            ladders_repo.release(session, claim)
        raise


def _probe(claim: Claim) -> ladder.Source:
    settings = get_settings()
    try:
        media_storage.head(claim.filename)  # a presigned URL does not say whether the object exists
        url = media_storage.presigned_get(claim.filename, settings.ffprobe_timeout_seconds + 60)
        facts = ffprobe.probe(url)
    except NotFound as exc:
        raise LadderRefused("The original upload is missing from the bucket: upload the video again") from exc
    except media_tools.ToolTimeout as exc:
        raise ServiceUnavailable("ffprobe timed out on the original") from exc
    except Unprocessable as exc:
        raise LadderRefused(f"{exc.message}: upload a playable file") from exc
    return ladder.Source(facts.width, facts.height, facts.has_audio, facts.frame_rate)


class Transcoder(Protocol):
    def start(self, claim: Claim, source: ladder.Source, rungs: tuple[ladder.Rung, ...]) -> str: ...


def transcoder() -> Transcoder:
    """The transcoder ``VIDEO_TRANSCODER`` names."""
    return MediaConvertTranscoder() if get_settings().video_transcoder == "mediaconvert" else FfmpegTranscoder()


class FfmpegTranscoder:
    """Every rung in one ffmpeg run inside the function, then uploaded and recorded."""

    def start(self, claim: Claim, source: ladder.Source, rungs: tuple[ladder.Rung, ...]) -> str:
        settings = get_settings()
        if claim.duration > settings.ffmpeg_max_duration_seconds:
            raise LadderRefused(_too_long(claim.duration, settings.ffmpeg_max_duration_seconds))
        url = media_storage.presigned_get(claim.filename, settings.ffmpeg_ladder_timeout_seconds + 300)
        with tempfile.TemporaryDirectory(prefix="ladder-") as scratch:
            directory = Path(scratch)
            try:
                outputs = ffmpeg_ladder.make_ladder(url, rungs, directory)
            except media_tools.ToolTimeout as exc:
                raise LadderRefused(_too_long(claim.duration, settings.ffmpeg_max_duration_seconds)) from exc
            except ffmpeg_ladder.TranscodeFailed as exc:
                raise LadderRefused(
                    f"ffmpeg could not transcode the original ({exc}): re-encode it (H.264 or HEVC in MP4/MOV) "
                    "and upload it again"
                ) from exc
            prefix = attempt_prefix(claim.video_id, claim.token)
            renditions = [_upload(output, directory, prefix) for output in outputs]
        return "made" if record(claim.video_id, claim.token, renditions) else "superseded"


def _too_long(duration: int, limit: int) -> str:
    return (
        f"Too long for the ffmpeg transcoder: {duration} s of video, its limit is {limit} s "
        "(VIDEO_FFMPEG_MAX_DURATION_SECONDS, within Lambda's 15 minutes); use VIDEO_TRANSCODER=mediaconvert"
    )


def _upload(output: ffmpeg_ladder.RungOutput, directory: Path, prefix: str) -> NewRendition:
    text = output.playlist.read_text()
    playlist = _read_playlist(text)
    for uri in playlist.uris:
        media_storage.upload_file(prefix + uri, str(directory / uri), CONTENT_TYPES.get(Path(uri).suffix, "video/mp2t"))
    return _rendition(output.rung, playlist, text, prefix)


def _read_playlist(text: str) -> hls.MediaPlaylist:
    try:
        return hls.read_media_playlist(text)
    except hls.PlaylistError as exc:
        raise LadderRefused(f"The transcoder wrote an unusable playlist ({exc}); reprocess the video") from exc


def _rendition(rung: ladder.Rung, playlist: hls.MediaPlaylist, text: str, prefix: str) -> NewRendition:
    """A rung as served: BANDWIDTH is its measured peak segment rate (the encoder's ceiling without byte ranges)."""
    planned_peak = (rung.peak_video_kbps + rung.audio_kbps) * 1000
    return NewRendition(
        name=rung.name,
        width=rung.width,
        height=rung.height,
        codecs=rung.codecs,
        frame_rate=rung.frame_rate,
        bandwidth=playlist.peak_bps or planned_peak,
        average_bandwidth=playlist.average_bps,
        media_prefix=prefix,
        playlist=text,
    )


class MediaConvertTranscoder:
    """One MediaConvert job per attempt; :func:`record_job_result` records what it made."""

    def start(self, claim: Claim, source: ladder.Source, rungs: tuple[ladder.Rung, ...]) -> str:
        request = mediaconvert.job_request(
            source_key=claim.filename,
            destination_prefix=attempt_prefix(claim.video_id, claim.token),
            rungs=rungs,
            video_id=claim.video_id,
            token=claim.token,
        )
        job_id = mediaconvert.submit(request)
        with session_scope() as session:
            ladders_repo.set_job(session, claim, job_id)
        logger.info("MediaConvert job submitted", extra={"video_id": claim.video_id, "job_id": job_id})
        return "submitted"


def record_job_result(event: dict[str, Any]) -> str:
    """Record a finished MediaConvert job (its EventBridge state-change event); what happened."""
    result = mediaconvert.result_of(event)
    if result is None:
        return "ignored"
    prefix = attempt_prefix(result.video_id, result.token)
    if not result.complete:
        reason = f"MediaConvert could not transcode the original: {result.error}; upload a playable file"
        return "failed" if fail(result.video_id, result.token, reason) else "superseded"
    with session_scope() as session:
        plan = ladders_repo.plan_of(session, result.video_id, result.token)
    if plan is None:
        _discard(prefix)
        return "superseded"
    renditions = []
    for planned in plan:
        rung = ladder.Rung(**planned)
        key = result.playlist_keys.get(rung.name)
        if key is None:
            return _failed_job(result, f"the job wrote no {rung.name} rendition")
        text = media_storage.read_text(key)
        try:
            playlist = hls.read_media_playlist(text)
        except hls.PlaylistError as exc:
            return _failed_job(result, f"its {rung.name} playlist is unusable ({exc})")
        renditions.append(_rendition(rung, playlist, text, key.rsplit("/", 1)[0] + "/"))
    return "made" if record(result.video_id, result.token, renditions) else "superseded"


def _failed_job(result: mediaconvert.JobResult, why: str) -> str:
    fail(result.video_id, result.token, f"MediaConvert finished but {why}; reprocess the video")
    return "failed"


def record(video_id: int, token: str, renditions: list[NewRendition]) -> bool:
    """Store the ladder if the attempt is still current; else remove its files. Whether it counted."""
    with session_scope() as session:
        won = ladders_repo.record_ready(session, video_id, token, renditions)
    if won:
        _count("LaddersMade")
        logger.info("Ladder ready", extra={"video_id": video_id, "rungs": [r.name for r in renditions]})
    else:
        _discard(attempt_prefix(video_id, token))
    return won


def fail(video_id: int, token: str, reason: str) -> bool:
    """Mark the video failed with ``reason`` if the attempt is still current; remove the attempt's files."""
    with session_scope() as session:
        won = ladders_repo.record_failed(session, video_id, token, reason)
    _discard(attempt_prefix(video_id, token))
    if won:
        _count("LaddersFailed")
        logger.warning("Ladder failed", extra={"video_id": video_id, "reason": reason})
    return won


def _discard(prefix: str) -> None:
    """Remove an attempt's files; what cannot be removed now goes with the video or its next sweep."""
    try:
        media_storage.remove_prefix(prefix)
    except NotFound:
        pass  # no bucket, no files
    except ServiceUnavailable:
        logger.warning("Could not remove an attempt's files", extra={"prefix": prefix})


def _count(name: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
