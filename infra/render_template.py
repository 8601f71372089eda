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

from infra.api_functions import connections_needed

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
# Invoked asynchronously (EventBridge rules, Scheduler): failures after Lambda's retries go to a DLQ.
ASYNC_FUNCTIONS = {PUBLISH_FUNCTION, "reconcile_video_schedules", "refresh_video_analytics", "analytics_retention"}
# Checkov findings that do not apply, with why (Checkov reads them from each resource's Metadata).
NOT_ASYNC = {
    API_HANDLER: "Invoked synchronously by API Gateway: the caller gets the error; a DLQ never receives anything.",
    INGEST_FUNCTION: "Fed by the ingest queue, whose redrive policy parks failed messages in its own DLQ.",
    THUMBNAIL_FUNCTION: "Fed by the thumbnail queue, whose redrive policy parks failed messages in its own DLQ.",
}
UNSCOPABLE_WRITES = (
    "The only unscoped writes are the VPC network-interface actions Lambda needs in a VPC (and, for reconcile, "
    "scheduler:ListSchedules), which AWS offers with no resource-level permissions; every other statement "
    "names its ARN."
)
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
    if function_name == API_HANDLER:  # the API functions present videos, so they sign URLs; reports may read a replica
        variables["DATABASE_READER_HOST"] = {"Ref": "DatabaseReaderEndpoint"}
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
        # The environment holds the JWT and HMAC secrets: encrypted with the stack's key, not AWS's.
        "KmsKeyArn": {"Fn::GetAtt": ["MediaApiKey", "Arn"]},
        "VpcConfig": {
            "SubnetIds": {"Ref": "VpcSubnetIds"},
            "SecurityGroupIds": {"Ref": "VpcSecurityGroupIds"},
        },
    }
    if layers(function_name):
        properties["Layers"] = [{"Ref": layer} for layer in layers(function_name)]
    override: dict[str, Any] = {"Properties": properties}
    if function_name in ASYNC_FUNCTIONS:
        properties["DeadLetterQueue"] = {
            "Type": "SQS",
            "TargetArn": {"Fn::GetAtt": ["EventFunctionDeadLetterQueue", "Arn"]},
        }
    else:
        override["Metadata"] = {"checkov": {"skip": [{"id": "CKV_AWS_116", "comment": NOT_ASYNC[function_name]}]}}
    if function_name in QUEUE_OF:
        # Chalice points the event source at the queue by name (MEDIA_*_QUEUE_NAME);
        # the mapping must wait for the queue to exist.
        override["DependsOn"] = [QUEUE_OF[function_name]]
    return override


def role_overrides() -> dict[str, Any]:
    """Each function's role: the one Checkov finding no statement can fix, explained."""
    return {"Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_111", "comment": UNSCOPABLE_WRITES}]}}}


def role_name(function_name: str) -> str:
    """The logical id Chalice gives a function's role."""
    return "ApiHandlerRole" if function_name == API_HANDLER else f"{cfn_name(function_name)}Role"


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
        template["Resources"][role_name(name)] = role_overrides()
    # The budget must hold every function's reserved concurrency (infra/api_functions.py).
    template["Parameters"]["DatabaseConnectionBudget"]["MinValue"] = connections_needed()
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
