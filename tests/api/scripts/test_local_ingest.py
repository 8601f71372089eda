"""`make dev` ingest: the ingest queue and S3 notification of ``scripts.local_aws`` and the
local dispatcher feeding ``ingest_uploaded_video``, on a moto server (ffprobe reads the
object over HTTP), a real PostgreSQL and real ffprobe on generated media.

moto delivers S3 ObjectCreated notifications to SQS in-process, so the path is the
one `make dev` runs: upload → notification → dispatcher pass → row.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import text

from chalicelib.adapters.aws import client as aws_client
from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from chalicelib.functions.ingest import INGEST
from scripts.local_dispatcher import dispatch_ingest, sqs_event
from tests.support.media import MediaFiles, upload, upload_through_api
from tests.support.scheduling import use_resources

INGEST_QUEUE_NAME = INGEST.queue_name
INGEST_DLQ_NAME = f"{INGEST_QUEUE_NAME}-dlq"
INGEST_MAX_RECEIVE_COUNT = INGEST.queue.max_receives if INGEST.queue else 0


@pytest.fixture
def ingest_queue(media_bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `make dev` creates, on the moto server; the s3:TestEvent already consumed. Yields the queue URL."""
    env = use_resources(monkeypatch, require_endpoint=True)
    assert env["MEDIA_QUEUE_PREFIX"] + "-ingest" == INGEST_QUEUE_NAME and env["MEDIA_BUCKET"] == media_bucket
    assert dispatch_ingest() == 1  # the test event S3 sends when the notification is configured
    return str(aws_client("sqs").get_queue_url(QueueName=INGEST_QUEUE_NAME)["QueueUrl"])


def _rows() -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM videos ORDER BY id"))]


def _counts(queue_url: str) -> tuple[int, int]:
    """(visible, in flight) messages of the queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = aws_client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def _peek(queue_url: str) -> list[dict[str, Any]]:
    """The visible messages, left visible (each peek counts as a receive)."""
    reply = aws_client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return list(reply.get("Messages", []))


def test_ensure_resources_wires_the_bucket_to_the_ingest_queue(ingest_queue: str, media_bucket: str) -> None:
    sqs = aws_client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=ingest_queue, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{INGEST_DLQ_NAME}")
    assert int(redrive["maxReceiveCount"]) == INGEST_MAX_RECEIVE_COUNT == 5
    [rule] = aws_client("s3").get_bucket_notification_configuration(Bucket=media_bucket)["QueueConfigurations"]
    assert rule["QueueArn"] == attributes["QueueArn"] and rule["Events"] == ["s3:ObjectCreated:*"]
    [prefix] = rule["Filter"]["Key"]["FilterRules"]
    assert (prefix["Name"].lower(), prefix["Value"]) == ("prefix", "videos/")


def test_presigned_upload_becomes_a_row_in_one_dispatcher_pass(
    client: Any, admin_headers: dict[str, str], ingest_queue: str, media_files: MediaFiles
) -> None:
    data = media_files.landscape.read_bytes()
    ticket = upload_through_api(client, admin_headers, data, "Harbour at dawn.mp4")

    [message] = _peek(ingest_queue)
    [record] = json.loads(message["Body"])["Records"]
    assert (
        record["eventName"].startswith("ObjectCreated:")
        and unquote_plus(record["s3"]["object"]["key"]) == ticket["key"]
    )

    assert dispatch_ingest() == 1
    [row] = _rows()
    assert row["filename"] == ticket["key"] and row["title"] == "Harbour at dawn"
    assert (row["width"], row["height"], row["orientation"], row["quality"]) == (1920, 1080, "H", "FHD")
    assert (row["duration"], row["has_audio"], row["file_size"]) == (3, True, len(data))
    assert _counts(ingest_queue) == (0, 0)


def test_non_video_is_dropped_and_its_message_deleted(ingest_queue: str, media_files: MediaFiles) -> None:
    upload(media_files.not_video, "videos/0c/notes.mp4")
    upload(media_files.portrait, "library/portrait.mp4")  # outside videos/: S3 sends nothing
    assert len(_peek(ingest_queue)) == 1

    assert dispatch_ingest() == 1  # handled: a non-video is dropped for good, not retried
    assert _rows() == []
    assert _counts(ingest_queue) == (0, 0)


def test_failing_handler_leaves_the_message_in_flight(
    ingest_queue: str, media_files: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FFPROBE_PATH", "/missing/ffprobe")  # the handler raises ServiceUnavailable (503)
    get_settings.cache_clear()
    upload(media_files.landscape, "videos/0f/a.mp4")

    assert dispatch_ingest() == 0
    assert _counts(ingest_queue) == (0, 1)  # not deleted: invisible until the visibility timeout, then redelivered
    assert _rows() == []


def test_failing_handler_leaves_the_message_until_the_dead_letter_queue(
    ingest_queue: str, media_files: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FFPROBE_PATH", "/missing/ffprobe")  # the handler raises ServiceUnavailable (503)
    get_settings.cache_clear()
    sqs = aws_client("sqs")
    # Redeliver at once instead of after the visibility timeout, so every pass receives it again.
    sqs.set_queue_attributes(QueueUrl=ingest_queue, Attributes={"VisibilityTimeout": "0"})
    upload(media_files.landscape, "videos/0f/a.mp4")

    for _ in range(INGEST_MAX_RECEIVE_COUNT):
        assert dispatch_ingest() == 0
        assert _counts(ingest_queue) == (1, 0)  # not deleted: still in the queue
    assert dispatch_ingest() == 0  # receive 6 > maxReceiveCount: SQS moves it to the dead-letter queue
    assert _counts(ingest_queue) == (0, 0)
    dlq = sqs.get_queue_url(QueueName=INGEST_DLQ_NAME)["QueueUrl"]
    [dead] = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert "videos/0f/a.mp4" in unquote_plus(dead["Body"])
    assert _rows() == []


def test_sqs_event_has_the_shape_lambda_delivers(ingest_queue: str) -> None:
    sqs = aws_client("sqs")
    sqs.send_message(
        QueueUrl=ingest_queue,
        MessageBody="{}",
        MessageAttributes={
            "origin": {"DataType": "String", "StringValue": "test"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    reply = sqs.receive_message(QueueUrl=ingest_queue, AttributeNames=["All"], MessageAttributeNames=["All"])
    [message] = reply["Messages"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=ingest_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    [record] = sqs_event(message, queue_arn)["Records"]

    assert record["messageId"] == message["MessageId"] and record["receiptHandle"] == message["ReceiptHandle"]
    assert (record["body"], record["eventSource"], record["eventSourceARN"]) == ("{}", "aws:sqs", queue_arn)
    assert record["awsRegion"] == "us-east-1" and record["md5OfBody"] == message["MD5OfBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1" and "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["origin"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["raw"]["binaryValue"] == "AAE="
    assert record["md5OfMessageAttributes"] == message["MD5OfMessageAttributes"]
