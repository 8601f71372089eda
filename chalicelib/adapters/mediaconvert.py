"""AWS Elemental MediaConvert: one job per video making its ladder, and reading what a job made.

The job's settings are built here from the video's rungs, because the rungs depend on the
source (no rung above it, portrait kept portrait); everything else a job does is fixed
below: one HLS output group, one MPEG-TS file per rung read by byte ranges
(``SINGLE_FILE``), 6 s segments on 2 s closed GOPs with scene-change keyframes off (so
every rung cuts at the same instants), H.264 High 8-bit 4:2:0 with AAC-LC stereo muxed in,
the source's rotation applied and HDR converted to SDR BT.709.

A job is idempotent on its ``ClientRequestToken`` (the ladder attempt's token): a message
delivered twice submits one job. The result comes back as an EventBridge event
("MediaConvert Job State Change"), which :func:`result_of` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.ladder import (
    AUDIO_CHANNELS,
    AUDIO_SAMPLE_RATE,
    GOP_SECONDS,
    SEGMENT_SECONDS,
    Rung,
)
from chalicelib.observability import logger

# The job writes <destination>_<rung>.m3u8/.ts and <destination>.m3u8 (its own master, unused).
OUTPUT_BASENAME = "ladder"
AUDIO_SELECTOR = "Audio Selector 1"
EVENT_SOURCE = "aws.mediaconvert"
EVENT_DETAIL_TYPE = "MediaConvert Job State Change"
FINAL_STATUSES = ("COMPLETE", "ERROR")
B_FRAMES = 2


@dataclass(frozen=True)
class JobResult:
    """A finished job, as its state-change event tells it."""

    job_id: str
    video_id: int
    token: str
    complete: bool
    playlist_keys: dict[str, str]  # rung name -> key of its media playlist (COMPLETE)
    error: str  # why it failed (ERROR)


def job_request(
    *, source_key: str, destination_prefix: str, rungs: tuple[Rung, ...], video_id: int, token: str
) -> dict[str, Any]:
    """The CreateJob parameters for one video's ladder (validated against botocore's model in the tests)."""
    settings = get_settings()
    bucket = settings.media_bucket
    has_audio = any(rung.has_audio for rung in rungs)
    source: dict[str, Any] = {
        "FileInput": f"s3://{bucket}/{source_key}",
        "TimecodeSource": "ZEROBASED",
        "VideoSelector": {"Rotate": "AUTO"},
    }
    if has_audio:
        source["AudioSelectors"] = {AUDIO_SELECTOR: {"DefaultSelection": "DEFAULT"}}
    request: dict[str, Any] = {
        "Role": settings.mediaconvert_role_arn,
        "ClientRequestToken": token,
        "UserMetadata": {"videoId": str(video_id), "ladderToken": token, "bucket": bucket},
        "StatusUpdateInterval": "SECONDS_60",
        "Settings": {
            "TimecodeConfig": {"Source": "ZEROBASED"},
            "Inputs": [source],
            "OutputGroups": [
                {
                    "Name": "HLS ladder",
                    "OutputGroupSettings": {
                        "Type": "HLS_GROUP_SETTINGS",
                        "HlsGroupSettings": _hls_group(f"s3://{bucket}/{destination_prefix}{OUTPUT_BASENAME}"),
                    },
                    "Outputs": [_output(rung) for rung in rungs],
                }
            ],
        },
    }
    if settings.mediaconvert_queue_arn:
        request["Queue"] = settings.mediaconvert_queue_arn
    return request


def _hls_group(destination: str) -> dict[str, Any]:
    return {
        "Destination": destination,
        "SegmentControl": "SINGLE_FILE",
        "SegmentLength": SEGMENT_SECONDS,
        "SegmentLengthControl": "GOP_MULTIPLE",
        "MinSegmentLength": 0,
        "DirectoryStructure": "SINGLE_DIRECTORY",
        "ManifestDurationFormat": "FLOATING_POINT",
        "OutputSelection": "MANIFESTS_AND_SEGMENTS",
        "ProgramDateTime": "EXCLUDE",
        "CodecSpecification": "RFC_6381",
        "StreamInfResolution": "INCLUDE",
        "ManifestCompression": "NONE",
        "ClientCache": "ENABLED",
        "CaptionLanguageSetting": "OMIT",
    }


def _output(rung: Rung) -> dict[str, Any]:
    output: dict[str, Any] = {
        "NameModifier": f"_{rung.name}",
        "ContainerSettings": {"Container": "M3U8", "M3u8Settings": {}},
        "VideoDescription": {
            "Width": rung.width,
            "Height": rung.height,
            "ScalingBehavior": "DEFAULT",
            "ColorMetadata": "INSERT",
            "VideoPreprocessors": {"ColorCorrector": {"ColorSpaceConversion": "FORCE_709"}},
            "CodecSettings": {"Codec": "H_264", "H264Settings": _h264(rung)},
        },
    }
    if rung.has_audio:
        output["AudioDescriptions"] = [
            {
                "AudioSourceName": AUDIO_SELECTOR,
                "CodecSettings": {
                    "Codec": "AAC",
                    "AacSettings": {
                        "CodecProfile": "LC",
                        "CodingMode": "CODING_MODE_2_0" if AUDIO_CHANNELS == 2 else "CODING_MODE_1_0",
                        "Bitrate": rung.audio_kbps * 1000,
                        "SampleRate": AUDIO_SAMPLE_RATE,
                        "RateControlMode": "CBR",
                    },
                },
            }
        ]
    return output


def _h264(rung: Rung) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "CodecProfile": "HIGH",
        "CodecLevel": "LEVEL_" + rung.level.removesuffix(".0").replace(".", "_"),
        "RateControlMode": "VBR",
        "Bitrate": rung.video_kbps * 1000,
        "MaxBitrate": rung.peak_video_kbps * 1000,
        "HrdBufferSize": rung.buffer_kbits * 1000,
        "GopSize": GOP_SECONDS,
        "GopSizeUnits": "SECONDS",
        "GopClosedCadence": 1,
        "SceneChangeDetect": "DISABLED",
        "MinIInterval": 0,
        "NumberBFramesBetweenReferenceFrames": B_FRAMES,
        "InterlaceMode": "PROGRESSIVE",
        "ParControl": "SPECIFIED",
        "ParNumerator": 1,
        "ParDenominator": 1,
        "QualityTuningLevel": "SINGLE_PASS_HQ",
        "FramerateControl": "INITIALIZE_FROM_SOURCE",
    }
    if rung.frame_rate is not None:
        numerator, denominator = _fraction(rung.frame_rate)
        settings.update(
            FramerateControl="SPECIFIED",
            FramerateConversionAlgorithm="DUPLICATE_DROP",
            FramerateNumerator=numerator,
            FramerateDenominator=denominator,
        )
    return settings


def _fraction(frame_rate: float) -> tuple[int, int]:
    """29.97 -> 30000/1001, 25 -> 25/1: the NTSC rates exactly, others to the millisecond."""
    for base in (24, 30, 60):
        if abs(frame_rate - base * 1000 / 1001) < 0.01:
            return base * 1000, 1001
    if abs(frame_rate - round(frame_rate)) < 0.001:
        return round(frame_rate), 1
    return round(frame_rate * 1000), 1000


def submit(request: dict[str, Any]) -> str:
    """CreateJob; the job's id. 503 when MediaConvert cannot be reached or refuses for now."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.adapters.aws import client

    try:
        reply = client("mediaconvert").create_job(**request)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("MediaConvert CreateJob failed", extra={"error": str(exc)[:300]})
        raise ServiceUnavailable("MediaConvert is unavailable, try again shortly") from exc
    return str(reply["Job"]["Id"])


def result_of(event: dict[str, Any]) -> JobResult | None:
    """The finished job an EventBridge event reports; None for anything else (progress, other jobs)."""
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != EVENT_DETAIL_TYPE:
        return None
    detail = event.get("detail") or {}
    metadata = detail.get("userMetadata") or {}
    status = detail.get("status")
    video_id = str(metadata.get("videoId", ""))
    if status not in FINAL_STATUSES or not video_id.isdigit() or not metadata.get("ladderToken"):
        return None
    if metadata.get("bucket") != get_settings().media_bucket:  # another stage's job, same account
        return None
    return JobResult(
        job_id=str(detail.get("jobId", "")),
        video_id=int(video_id),
        token=str(metadata["ladderToken"]),
        complete=status == "COMPLETE",
        playlist_keys=_playlist_keys(detail) if status == "COMPLETE" else {},
        error=f"{detail.get('errorMessage') or 'no message'} (code {detail.get('errorCode', '?')})",
    )


def _playlist_keys(detail: dict[str, Any]) -> dict[str, str]:
    """Rung name -> bucket key of its media playlist, from the outputs the job lists."""
    keys = {}
    for group in detail.get("outputGroupDetails") or []:
        for output in group.get("outputDetails") or []:
            for path in output.get("outputFilePaths") or []:
                key = str(path).split("/", 3)[-1] if str(path).startswith("s3://") else str(path)
                name = key.rsplit("/", 1)[-1].removesuffix(".m3u8").removeprefix(f"{OUTPUT_BASENAME}_")
                keys[name] = key
    return keys
