"""The MediaConvert job request, validated offline against botocore's own service model (Stubber
checks every parameter's name, type, enum value and range), and the job-state events it answers."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters import mediaconvert
from chalicelib.config import get_settings
from chalicelib.domain.ladder import Source, plan

ROLE = "arn:aws:iam::123456789012:role/media-api-prod-MediaConvertRole"


@pytest.fixture(autouse=True)
def role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEO_MEDIACONVERT_ROLE_ARN", ROLE)
    get_settings.cache_clear()


def request_for(source: Source) -> dict[str, Any]:
    return mediaconvert.job_request(
        source_key="videos/abc/phone.mov",
        destination_prefix="renditions/7/0123456789abcdef/",
        rungs=plan(source),
        video_id=7,
        token="0123456789abcdef",
    )


def stubbed_create_job(request: dict[str, Any]) -> dict[str, Any]:
    """CreateJob through a real botocore client whose Stubber validates ``request`` against the model."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.session.Session().client(
        "mediaconvert", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        stubber.add_response("create_job", {"Job": {"Id": "1700000000000-abcdef", "Role": ROLE,
                                                   "Settings": request["Settings"]}}, request)  # fmt: skip
        reply: dict[str, Any] = client.create_job(**request)
        stubber.assert_no_pending_responses()
    return reply


@pytest.mark.parametrize(
    "source",
    [
        Source(3840, 2160, has_audio=True, frame_rate=59.94),
        Source(1080, 1920, has_audio=True, frame_rate=29.97),
        Source(854, 480, has_audio=False, frame_rate=25.0),
        Source(320, 240, has_audio=True),
    ],
    ids=["4k60", "portrait", "silent-480p", "tiny-unknown-rate"],
)
def test_every_job_request_validates_against_the_service_model(source: Source) -> None:
    request = request_for(source)
    assert stubbed_create_job(request)["Job"]["Id"]


def test_the_job_makes_the_ladder_as_planned_in_one_hls_group_of_single_files() -> None:
    request = request_for(Source(1920, 1080, has_audio=True, frame_rate=25.0))
    assert request["Role"] == ROLE and request["ClientRequestToken"] == "0123456789abcdef"
    assert request["UserMetadata"] == {"videoId": "7", "ladderToken": "0123456789abcdef", "bucket": "media-test-bucket"}
    settings = request["Settings"]
    [source] = settings["Inputs"]
    assert source["FileInput"] == "s3://media-test-bucket/videos/abc/phone.mov"
    assert source["VideoSelector"] == {"Rotate": "AUTO"}  # rotation applied
    [group] = settings["OutputGroups"]
    hls = group["OutputGroupSettings"]["HlsGroupSettings"]
    assert hls["Destination"] == "s3://media-test-bucket/renditions/7/0123456789abcdef/ladder"
    assert (hls["SegmentControl"], hls["SegmentLength"]) == ("SINGLE_FILE", 6)
    sizes = [(o["VideoDescription"]["Width"], o["VideoDescription"]["Height"]) for o in group["Outputs"]]
    assert sizes == [(640, 360), (960, 540), (1280, 720), (1920, 1080)]
    for output in group["Outputs"]:
        h264 = output["VideoDescription"]["CodecSettings"]["H264Settings"]
        assert (h264["CodecProfile"], h264["GopSize"], h264["GopSizeUnits"]) == ("HIGH", 2, "SECONDS")
        assert h264["SceneChangeDetect"] == "DISABLED" and h264["GopClosedCadence"] == 1  # aligned keyframes
        assert h264["MaxBitrate"] <= h264["Bitrate"] * 1.1 + 1000
        [audio] = output["AudioDescriptions"]
        aac = audio["CodecSettings"]["AacSettings"]
        assert (aac["CodecProfile"], aac["CodingMode"]) == ("LC", "CODING_MODE_2_0")


def test_a_source_without_audio_gets_video_only_outputs() -> None:
    request = request_for(Source(1280, 720, has_audio=False))
    assert "AudioSelectors" not in request["Settings"]["Inputs"][0]
    assert all("AudioDescriptions" not in o for o in request["Settings"]["OutputGroups"][0]["Outputs"])


def event(status: str, **detail: Any) -> dict[str, Any]:
    return {
        "source": "aws.mediaconvert",
        "detail-type": "MediaConvert Job State Change",
        "detail": {
            "status": status,
            "jobId": "1700000000000-abcdef",
            "userMetadata": {"videoId": "7", "ladderToken": "tok", "bucket": "media-test-bucket"},
            **detail,
        },
    }


def test_a_complete_event_names_each_rungs_playlist() -> None:
    outputs = [
        {"outputFilePaths": [f"s3://media-test-bucket/renditions/7/tok/ladder_{name}.m3u8"]}
        for name in ("360p", "720p")
    ]
    result = mediaconvert.result_of(event("COMPLETE", outputGroupDetails=[{"outputDetails": outputs}]))
    assert result is not None and result.complete and (result.video_id, result.token) == (7, "tok")
    assert result.playlist_keys == {
        "360p": "renditions/7/tok/ladder_360p.m3u8",
        "720p": "renditions/7/tok/ladder_720p.m3u8",
    }


def test_an_error_event_says_why_and_anything_else_is_ignored() -> None:
    failed = mediaconvert.result_of(event("ERROR", errorMessage="Unsupported codec", errorCode=1010))
    assert failed is not None and not failed.complete and failed.error == "Unsupported codec (code 1010)"
    assert mediaconvert.result_of(event("PROGRESSING")) is None
    other_stage = event("COMPLETE")
    other_stage["detail"]["userMetadata"]["bucket"] = "media-api-dev-videos"
    assert mediaconvert.result_of(other_stage) is None
    assert mediaconvert.result_of({"source": "aws.s3"}) is None
