"""Render the ``chalice package --merge-template`` file for one stage.

``infra/template.json`` holds the resources Chalice does not create. Everything about an
event function follows from its declaration (``chalicelib/functions/declaration.py``):
its settings (memory, timeout, reserved concurrency, ephemeral storage, layers,
environment), its own IAM role, and, for a queue-fed one, its queue, dead-letter queue
and alarm. Chalice's own API function gets the stack's wiring here and is split into one
function per endpoint group afterwards (``infra/api_functions.py``). Chalice deep-merges
the result into its SAM template.

    python -m infra.render_template --stage prod --output build/merge-prod.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from infra import iam_statements
from infra.api_functions import connections_needed

ROOT = Path(__file__).resolve().parents[1]
BASE_TEMPLATE = ROOT / "infra" / "template.json"
API_HANDLER = "api_handler"
PUBLISH_FUNCTION = "publish_scheduled_video"
# The API's synchronous probe (POST /api/videos) must end before API Gateway's 29 s integration timeout.
API_FFPROBE_TIMEOUT_SECONDS = "20"
API_NOT_ASYNC = "Invoked synchronously by API Gateway: the caller gets the error; a DLQ never receives anything."
QUEUE_ENCRYPTION = (
    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); S3 event notifications cannot deliver to a queue under "
    "the AWS-managed KMS key, and a CMK would add nothing the managed SSE lacks here."
)
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
STAGES = ("dev", "prod")


def cfn_name(function_name: str) -> str:
    """The logical id Chalice gives a function (``ingest_uploaded_video`` → ``IngestUploadedVideo``)."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function_name == API_HANDLER else to_cfn_resource_name(function_name)


def role_name(function_name: str) -> str:
    return f"{cfn_name(function_name)}Role"


def queue_resource(queue_name: str) -> str:
    """``ingest`` → ``IngestQueue`` (its dead-letter queue: ``IngestDeadLetterQueue``)."""
    return "".join(part.capitalize() for part in queue_name.split("-")) + "Queue"


def _app() -> Any:
    sys.path.insert(0, str(ROOT))
    from app import app

    return app


def function_names() -> list[str]:
    """Every Lambda function ``chalice package`` emits for ``app.py``."""
    app = _app()
    names = [API_HANDLER] if app.routes else []
    names += [function.name for function in app.pure_lambda_functions]
    names += [source.name for source in app.event_sources]
    return names


def declarations() -> dict[str, Any]:
    """Function name -> its :class:`~chalicelib.functions.declaration.EventFunction`."""
    _app()
    from chalicelib.functions.declaration import declared

    return {spec.name: spec for spec in declared()}


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
        "MEDIA_QUEUE_PREFIX": {"Fn::Sub": "media-api-${Stage}"},
        "VIDEO_TRANSCODER": {"Ref": "VideoTranscoder"},
        "VIDEO_SCHEDULE_GROUP": {"Ref": "ScheduleGroup"},
        "VIDEO_SCHEDULE_ROLE_ARN": {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]},
        "VIDEO_SCHEDULE_DLQ_ARN": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
        "VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN": {"Ref": "ScheduleNotificationTopic"},
    }
    if function_name != PUBLISH_FUNCTION:  # a function cannot name its own ARN (circular reference)
        variables["VIDEO_SCHEDULE_TARGET_ARN"] = {"Fn::GetAtt": [cfn_name(PUBLISH_FUNCTION), "Arn"]}
    if function_name == API_HANDLER:  # the API functions present videos, so they sign URLs; reports may read a replica
        variables.update(
            DATABASE_READER_HOST={"Ref": "DatabaseReaderEndpoint"},
            VIDEO_STREAM_CDN_DOMAIN={"Fn::GetAtt": ["StreamDistribution", "DomainName"]},
            VIDEO_STREAM_KEY_PAIR_ID={"Ref": "StreamPublicKey"},
            VIDEO_STREAM_PRIVATE_KEY_SECRET={"Ref": "StreamSigningKeySecret"},
            FFPROBE_PATH="/opt/bin/ffprobe",
            FFPROBE_TIMEOUT_SECONDS=API_FFPROBE_TIMEOUT_SECONDS,
        )
    else:
        variables.update(declarations()[function_name].environment)
    return variables


def layers(function_name: str) -> list[str]:
    """The layers (logical ids) a function carries (the API's are per endpoint group)."""
    if function_name == API_HANDLER:
        return ["FfprobeLayer"]
    return list(declarations()[function_name].layers)


def _common_properties(function_name: str) -> dict[str, Any]:
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
    return properties


def api_overrides() -> dict[str, Any]:
    """The API function's stack wiring; its settings and roles are per endpoint group (api_functions)."""
    return {
        "Properties": _common_properties(API_HANDLER),
        "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_116", "comment": API_NOT_ASYNC}]}},
    }


def event_function_resources(spec: Any) -> dict[str, dict[str, Any]]:
    """The overrides of one event function, and the resources only it has (role, queue, DLQ, alarm)."""
    name = cfn_name(spec.name)
    properties = _common_properties(spec.name)
    properties.update(
        MemorySize=spec.memory,
        Timeout=spec.timeout,
        ReservedConcurrentExecutions=spec.concurrency,
        Role={"Fn::GetAtt": [role_name(spec.name), "Arn"]},
        Description=f"Media API: {spec.summary}",
    )
    if spec.ephemeral_storage_mb != 512:
        properties["EphemeralStorage"] = {"Size": spec.ephemeral_storage_mb}
    function: dict[str, Any] = {"Properties": properties}
    extra: list[dict[str, Any]] = []
    grants = tuple(spec.grants)
    resources: dict[str, dict[str, Any]] = {}
    if spec.queue is None:
        properties["DeadLetterQueue"] = {
            "Type": "SQS",
            "TargetArn": {"Fn::GetAtt": ["EventFunctionDeadLetterQueue", "Arn"]},
        }
        grants += ("SendToEventDeadLetterQueue",)
    else:
        queue = queue_resource(spec.queue.name)
        reason = f"Fed by its queue {queue}, whose redrive policy parks failed messages in its own DLQ."
        function["Metadata"] = {"checkov": {"skip": [{"id": "CKV_AWS_116", "comment": reason}]}}
        # Chalice points the event source at the queue by name (MEDIA_QUEUE_PREFIX); the mapping waits for it.
        function["DependsOn"] = [queue]
        extra.append(iam_statements.consume_queue(queue))
        resources.update(queue_resources(spec))
    resources[name] = function
    resources[role_name(spec.name)] = iam_statements.role(role_name(spec.name), grants, tuple(extra))
    return resources


def queue_resources(spec: Any) -> dict[str, dict[str, Any]]:
    """A function's queue, its dead-letter queue, and an alarm when anything is dead-lettered."""
    queue = queue_resource(spec.queue.name)
    dead_letters = queue.removesuffix("Queue") + "DeadLetterQueue"
    encryption = {"checkov": {"skip": [{"id": "CKV_AWS_27", "comment": QUEUE_ENCRYPTION}]}}
    return {
        dead_letters: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": f"media-api-${{Stage}}-{spec.queue.name}-dlq"},
                "MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
            "Metadata": encryption,
        },
        queue: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": f"media-api-${{Stage}}-{spec.queue.name}"},
                "VisibilityTimeout": spec.visibility_timeout,
                "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                    "maxReceiveCount": spec.queue.max_receives,
                },
            },
            "Metadata": encryption,
        },
        queue.removesuffix("Queue") + "DeadLetterAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": spec.queue.dead_letter_meaning,
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "ScheduleNotificationTopic"}],
            },
        },
    }


def render(stage: str, names: list[str] | None = None) -> dict[str, Any]:
    if stage not in STAGES:
        raise SystemExit(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    names = function_names() if names is None else names
    for required in (API_HANDLER, PUBLISH_FUNCTION):
        if required not in names:
            raise SystemExit(f"app.py defines no '{required}' function; the template references it")
    template = copy.deepcopy(json.loads(BASE_TEMPLATE.read_text()))
    template["Parameters"]["Stage"]["Default"] = stage
    specs = declarations()
    undeclared = sorted(set(names) - set(specs) - {API_HANDLER})
    if undeclared:
        raise SystemExit(f"no declaration (chalicelib/functions/declaration.py) for {', '.join(undeclared)}")
    template["Resources"][cfn_name(API_HANDLER)] = api_overrides()
    for name in names:
        if name == API_HANDLER:
            continue
        for logical_id, resource in event_function_resources(specs[name]).items():
            template["Resources"][logical_id] = resource
        if specs[name].queue is not None:
            queue = queue_resource(specs[name].queue.name)
            template["Outputs"][f"{queue}Url"] = {"Value": {"Ref": queue}}
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
