"""Render the ``chalice package --merge-template`` file for one stage.

``infra/template.json`` holds the resources Chalice does not create. Chalice's
own function resources need wiring to them (environment, VPC, the ffprobe
layer, the ingest queue), and the set of functions grows as Blueprints are
added, so this script reads the functions from the app itself and emits one
override per function. Chalice deep-merges the result into its SAM template.

    python -m infra.render_template --stage prod --output build/merge-prod.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_TEMPLATE = ROOT / "infra" / "template.json"
API_HANDLER = "api_handler"
INGEST_FUNCTION = "ingest_uploaded_video"
PUBLISH_FUNCTION = "publish_scheduled_video"
THUMBNAIL_FUNCTION = "make_video_thumbnail"
# Functions that run ffprobe get its layer; the API's synchronous probe must end
# before API Gateway's 29 s integration timeout.
PROBING_FUNCTIONS = {API_HANDLER: "20", INGEST_FUNCTION: "50"}
# The thumbnail function alone carries ffmpeg; its candidate frames must fit its 120 s.
FRAMING_FUNCTIONS = {THUMBNAIL_FUNCTION: "25"}
# Functions fed by a queue of the merge template: their event source must wait for it.
QUEUE_OF = {INGEST_FUNCTION: "IngestQueue", THUMBNAIL_FUNCTION: "ThumbnailQueue"}
STAGES = ("dev", "prod")


def cfn_name(function_name: str) -> str:
    """The logical id Chalice gives a function (``ingest_uploaded_video`` → ``IngestUploadedVideo``)."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function_name == API_HANDLER else to_cfn_resource_name(function_name)


def function_names() -> list[str]:
    """Every Lambda function ``chalice package`` emits for ``app.py``."""
    sys.path.insert(0, str(ROOT))
    from app import app

    names = [API_HANDLER] if app.routes else []
    names += [function.name for function in app.pure_lambda_functions]
    names += [source.name for source in app.event_sources]
    return names


def environment(function_name: str) -> dict[str, Any]:
    """Values only the stack knows; Chalice's config.json holds the static rest."""
    variables: dict[str, Any] = {
        "DATABASE_URL": "",
        "DATABASE_SECRET_NAME": {"Ref": "DatabaseSecret"},
        "JWT_ACCESS_SECRET": {"Ref": "JwtAccessSecret"},
        "VIDEO_ANALYTICS_IP_HASH_SECRET": {"Ref": "IpHashSecret"},
        "VIDEO_VIEW_TOKEN_SECRET": {"Ref": "ViewTokenSecret"},
        "MEDIA_API_URL": {"Ref": "MediaApiUrl"},
        "VITE_MEDIA_API_URL": {"Ref": "MediaApiUrl"},
        "CORS_ALLOWED_ORIGINS": {"Fn::Join": [",", {"Ref": "CorsAllowedOrigins"}]},
        "MEDIA_BUCKET": {"Ref": "MediaBucket"},
        "VIDEO_SCHEDULE_GROUP": {"Ref": "ScheduleGroup"},
        "VIDEO_SCHEDULE_ROLE_ARN": {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]},
        "VIDEO_SCHEDULE_DLQ_ARN": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
        "VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN": {"Ref": "ScheduleNotificationTopic"},
    }
    if function_name != PUBLISH_FUNCTION:  # a function cannot name its own ARN (circular reference)
        variables["VIDEO_SCHEDULE_TARGET_ARN"] = {"Fn::GetAtt": [cfn_name(PUBLISH_FUNCTION), "Arn"]}
    if function_name in PROBING_FUNCTIONS:
        variables["FFPROBE_PATH"] = "/opt/bin/ffprobe"
        variables["FFPROBE_TIMEOUT_SECONDS"] = PROBING_FUNCTIONS[function_name]
    if function_name in FRAMING_FUNCTIONS:
        variables["FFMPEG_PATH"] = "/opt/bin/ffmpeg"
        variables["THUMBNAIL_TIMEOUT_SECONDS"] = FRAMING_FUNCTIONS[function_name]
    if function_name == API_HANDLER:  # the one function that presents videos, so the one that signs URLs
        variables["VIDEO_STREAM_CDN_DOMAIN"] = {"Fn::GetAtt": ["StreamDistribution", "DomainName"]}
        variables["VIDEO_STREAM_KEY_PAIR_ID"] = {"Ref": "StreamPublicKey"}
        variables["VIDEO_STREAM_PRIVATE_KEY_SECRET"] = {"Ref": "StreamSigningKeySecret"}
    return variables


def layers(function_name: str) -> list[str]:
    """The layers (logical ids) a function carries: ffprobe to probe, ffmpeg to make poster frames."""
    return (["FfprobeLayer"] if function_name in PROBING_FUNCTIONS else []) + (
        ["FfmpegLayer"] if function_name in FRAMING_FUNCTIONS else []
    )


def function_overrides(function_name: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Environment": {"Variables": environment(function_name)},
        "VpcConfig": {
            "SubnetIds": {"Ref": "VpcSubnetIds"},
            "SecurityGroupIds": {"Ref": "VpcSecurityGroupIds"},
        },
    }
    if layers(function_name):
        properties["Layers"] = [{"Ref": layer} for layer in layers(function_name)]
    if function_name in QUEUE_OF:
        # Chalice points the event source at the queue by name (MEDIA_*_QUEUE_NAME);
        # the mapping must wait for the queue to exist.
        return {"DependsOn": [QUEUE_OF[function_name]], "Properties": properties}
    return {"Properties": properties}


def render(stage: str, names: list[str] | None = None) -> dict[str, Any]:
    if stage not in STAGES:
        raise SystemExit(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    names = function_names() if names is None else names
    for required in (API_HANDLER, INGEST_FUNCTION, PUBLISH_FUNCTION, THUMBNAIL_FUNCTION):
        if required not in names:
            raise SystemExit(f"app.py defines no '{required}' function; the template references it")
    template = copy.deepcopy(json.loads(BASE_TEMPLATE.read_text()))
    template["Parameters"]["Stage"]["Default"] = stage
    for name in names:
        template["Resources"][cfn_name(name)] = function_overrides(name)
    return template


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--output", required=True, type=Path)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(render(args.stage), indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
