"""Ingest end to end on LocalStack: presigned PUT upload, S3 → SQS notification, the ingest
handler fed the very message SQS delivered, real ffprobe reading a presigned GET."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.adapters.aws import client as aws_client
from chalicelib.config import get_settings
from chalicelib.db.engine import get_engine
from tests.support.api import json_body
from tests.support.media import MediaFiles, upload_through_api


@pytest.fixture
def ingest_queue(localstack: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket whose ObjectCreated events under videos/ go to a fresh SQS queue (as infra/template.json)."""
    bucket = f"media-it-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("MEDIA_BUCKET", bucket)
    monkeypatch.setenv("MEDIA_QUEUE_PREFIX", bucket)
    get_settings.cache_clear()
    s3, sqs = aws_client("s3"), aws_client("sqs")
    s3.create_bucket(Bucket=bucket)
    sqs.create_queue(QueueName=f"{bucket}-thumbnails")
    queue_url = sqs.create_queue(QueueName=f"{bucket}-ingest")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "videos/"}]}},
                }
            ]
        },
    )
    return queue_url


def _receive_object_created(queue_url: str, key: str, timeout: float = 20) -> dict[str, Any]:
    """The SQS message S3 sent for ``key`` (skipping the s3:TestEvent)."""
    sqs = aws_client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in reply.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if key.rsplit("/", maxsplit=1)[-1] in message["Body"] and "ObjectCreated" in message["Body"]:
                return message
    raise AssertionError(f"no ObjectCreated notification for {key} within {timeout}s")


def _sqs_event(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """The Lambda event SQS builds around a received message."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue_url.rsplit('/', 1)[-1]}",
                "awsRegion": "us-east-1",
            }
        ]
    }


def _videos() -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM videos ORDER BY id"))]


def test_upload_notification_ingest_and_redelivery(
    client: Any, admin_headers: dict[str, str], ingest_queue: str, media_files: MediaFiles
) -> None:
    data = media_files.landscape.read_bytes()
    ticket = upload_through_api(client, admin_headers, data, "Harbour at dawn.mp4")

    message = _receive_object_created(ingest_queue, ticket["key"])
    event = _sqs_event(message, ingest_queue)
    client.lambda_.invoke("ingest_uploaded_video", event)
    client.lambda_.invoke("ingest_uploaded_video", event)  # at-least-once delivery: same message again

    [row] = _videos()
    assert row["filename"] == ticket["key"] and row["title"] == "Harbour at dawn"
    assert (row["width"], row["height"], row["orientation"], row["quality"]) == (1920, 1080, "H", "FHD")
    assert (row["duration"], row["has_audio"], row["file_size"]) == (3, True, len(data))

    # Each delivery asked for a thumbnail; the thumbnail function makes exactly one.
    sqs = aws_client("sqs")
    thumbnails_url = sqs.get_queue_url(QueueName=get_settings().queue_name("thumbnails"))["QueueUrl"]
    requests = _drain(thumbnails_url)
    assert len(requests) == 2
    for message in requests:
        client.lambda_.invoke("make_video_thumbnail", _sqs_event(message, thumbnails_url))
    [row] = _videos()
    listed = aws_client("s3").list_objects_v2(Bucket=get_settings().media_bucket, Prefix="thumbnails/")
    assert [item["Key"] for item in listed["Contents"]] == [row["thumbnail_key"]]
    video = client.http.get(f"/api/videos/{row['id']}", headers=admin_headers).json_body
    with urllib.request.urlopen(video["thumbnailUrl"], timeout=10) as image:
        assert image.headers["Content-Type"] == "image/jpeg" and image.read(3) == b"\xff\xd8\xff"


def _drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = aws_client("sqs")
    messages: list[dict[str, Any]] = []
    for _ in range(5):
        messages += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
    return messages


def test_non_video_upload_is_dropped_and_duplicate_copies_in_localstack(
    client: Any, admin_headers: dict[str, str], ingest_queue: str, media_files: MediaFiles
) -> None:
    bucket = get_settings().media_bucket
    s3 = aws_client("s3")
    s3.put_object(Bucket=bucket, Key="videos/x/notes.mp4", Body=media_files.not_video.read_bytes())
    message = _receive_object_created(ingest_queue, "videos/x/notes.mp4")
    client.lambda_.invoke("ingest_uploaded_video", _sqs_event(message, ingest_queue))
    assert _videos() == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="videos/x/")  # junk deleted
    failures = client.http.get("/api/videos/ingest-failures", headers=admin_headers).json_body["failures"]
    assert [failure["key"] for failure in failures] == ["videos/x/notes.mp4"]

    s3.put_object(Bucket=bucket, Key="library/portrait.mp4", Body=media_files.portrait.read_bytes())
    created = client.http.post(
        "/api/videos", headers=admin_headers, body=json_body({"filename": "library/portrait.mp4"})
    )
    assert created.status_code == 201, created.body
    copy = client.http.post(f"/api/videos/{created.json_body['id']}/duplicate", headers=admin_headers)
    assert copy.status_code == 201, copy.body
    copied = s3.get_object(Bucket=bucket, Key=copy.json_body["filename"])["Body"].read()
    assert copied == media_files.portrait.read_bytes()
    # the copy lands under videos/, so S3 notifies the ingest queue; ingesting it keeps one row
    message = _receive_object_created(ingest_queue, copy.json_body["filename"])
    client.lambda_.invoke("ingest_uploaded_video", _sqs_event(message, ingest_queue))
    titles = sorted(row["title"] for row in _videos())
    assert titles == ["portrait", "portrait (Copy)"]
    body = json.loads(message["Body"])
    assert body["Records"][0]["s3"]["bucket"]["name"] == bucket
