"""Local AWS for development and tests: an embedded moto server, and the
resources the service expects, created idempotently in whichever emulator
``AWS_ENDPOINT_URL`` names (LocalStack or moto).

``make dev`` calls :func:`start_moto_server` when no emulator is configured, sets
``AWS_ENDPOINT_URL`` to what it returns, then calls :func:`ensure_resources` and
exports the variables it returns (to ``chalice local`` and the dispatcher).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from typing import Any

from chalicelib.adapters.aws import new_session
from chalicelib.config import get_settings
from chalicelib.functions.declaration import EventFunction, declared
from chalicelib.functions.ingest import INGEST

INGEST_PREFIX = "videos/"
DLQ_NAME = "media-api-video-schedules-dlq"
TOPIC_NAME = "media-api-video-schedules"
ROLE_NAME = "media-api-scheduler-invoke"
# The name ``chalice deploy`` gives the function: {app_name}-{stage}-{name}. Nothing runs it
# in an emulator (LocalStack's Lambda needs Docker); the local dispatcher invokes the handler.
TARGET_FUNCTION = "media-api-local-publish_scheduled_video"
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
SCHEDULER_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

_servers: list[Any] = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto_server(port: int | None = None) -> str:
    """Start moto's server in a daemon thread on 127.0.0.1 and return its endpoint URL.

    moto listens on every interface unless told otherwise; an emulator that
    accepts any credentials stays on loopback.
    """
    from moto.server import ThreadedMotoServer

    port = port or _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _servers.append(server)
    return f"http://127.0.0.1:{port}"


def stop_moto_servers() -> None:
    """Stop every server :func:`start_moto_server` started in this process."""
    while _servers:
        _servers.pop().stop()


def _client(service: str, endpoint: str | None) -> Any:
    credentials = {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID") or TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    return new_session().client(service, region_name=get_settings().aws_region, endpoint_url=endpoint, **credentials)


def _error_code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def ensure_resources(*, require_endpoint: bool = True) -> dict[str, str]:
    """Create (or find) the schedule group, its dead-letter queue, the notification
    topic, the Scheduler role, the media bucket and its ingest queue (S3 notifies it
    of uploads under ``videos/``, as in AWS); return the variables to export.

    Refuses to run without ``AWS_ENDPOINT_URL`` so it never touches a real
    account; tests inside moto's ``mock_aws`` pass ``require_endpoint=False``.
    """
    get_settings.cache_clear()
    settings = get_settings()
    endpoint = settings.aws_endpoint_url or None
    if endpoint is None and require_endpoint:
        raise RuntimeError("AWS_ENDPOINT_URL is not set: ensure_resources only writes to an emulator")
    _ensure_group(_client("scheduler", endpoint), settings.schedule_group_name)
    sqs = _client("sqs", endpoint)
    queue_url = sqs.create_queue(QueueName=DLQ_NAME)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_arn = _client("sns", endpoint).create_topic(Name=TOPIC_NAME)["TopicArn"]
    role_arn = _ensure_role(_client("iam", endpoint))
    s3 = _client("s3", endpoint)
    ensure_bucket(s3, settings.media_bucket)
    _ensure_bucket_cors(s3, settings.media_bucket, settings.cors_allowed_origins)
    queues = {spec.name: _ensure_queue_with_dlq(sqs, spec) for spec in _queue_fed()}
    _ensure_ingest_notification(s3, settings.media_bucket, queues[INGEST.name])
    account = _client("sts", endpoint).get_caller_identity()["Account"]
    env = {
        "VIDEO_SCHEDULE_GROUP": settings.schedule_group_name,
        "VIDEO_SCHEDULE_TARGET_ARN": f"arn:aws:lambda:{settings.aws_region}:{account}:function:{TARGET_FUNCTION}",
        "VIDEO_SCHEDULE_ROLE_ARN": role_arn,
        "VIDEO_SCHEDULE_DLQ_ARN": dlq_arn,
        "VIDEO_SCHEDULE_NOTIFICATION_TOPIC_ARN": topic_arn,
        "MEDIA_BUCKET": settings.media_bucket,
        "MEDIA_QUEUE_PREFIX": settings.queue_prefix,
        "AWS_REGION": settings.aws_region,
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    for name, value in TEST_CREDENTIALS.items():
        if not os.environ.get(name):
            env[name] = value
    return env


def _ensure_group(scheduler: Any, name: str) -> None:
    with contextlib.suppress(scheduler.exceptions.ConflictException):  # already there
        scheduler.create_schedule_group(Name=name)


def _ensure_role(iam: Any) -> str:
    try:
        return str(iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(SCHEDULER_TRUST_POLICY))["Role"][
                "Arn"
            ]
        )


def ensure_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.create_bucket(Bucket=bucket)
    except Exception as exc:  # only "already exists" is expected
        if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise


def _ensure_bucket_cors(s3: Any, bucket: str, origins: tuple[str, ...]) -> None:
    """The bucket answers CORS for the frontend origins, as infra/template.json's does: browsers upload with
    a presigned PUT, and hls.js reads the renditions with XHR (byte ranges) from a page of those origins."""
    if not origins:
        return
    rule = {
        "AllowedMethods": ["PUT", "GET", "HEAD"],
        "AllowedOrigins": list(origins),
        "AllowedHeaders": ["Content-Type", "Range"],
        "ExposeHeaders": ["ETag", "Content-Length", "Content-Range"],
        "MaxAgeSeconds": 3600,
    }
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})


def _queue_arn(sqs: Any, queue_url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _queue_fed() -> list[EventFunction]:
    """Every declared function fed by a queue (importing the app declares them all)."""
    import app  # noqa: F401

    return [spec for spec in declared() if spec.queue is not None]


def _ensure_queue_with_dlq(sqs: Any, spec: EventFunction) -> str:
    """A function's queue and its dead-letter queue (``<name>-dlq``), as its declaration says; the queue's ARN.

    The visibility timeout is the declaration's local one (a failed message comes back within a
    minute in `make dev`), not AWS's 6 x the timeout. Attributes are set after creating, not
    passed to ``create_queue``: a queue left by an older run with other attributes would make
    ``create_queue`` fail.
    """
    assert spec.queue is not None
    name = spec.queue_name
    dlq_arn = _queue_arn(sqs, sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"])
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.queue.max_receives)}
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(spec.queue.local_visibility_timeout),
        },
    )
    return _queue_arn(sqs, queue_url)


def _ensure_ingest_notification(s3: Any, bucket: str, queue_arn: str) -> None:
    """S3 ObjectCreated under ``videos/`` → the ingest queue (replaces the bucket's notification configuration)."""
    rule = {"Name": "prefix", "Value": INGEST_PREFIX}
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [rule]}}}
            ]
        },
    )


def main() -> None:
    """``python -m scripts.local_aws``: create the resources and print them as ``export`` lines."""
    for name, value in ensure_resources().items():
        print(f"export {name}={value}")


if __name__ == "__main__":
    main()
