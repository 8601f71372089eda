"""The duplicate-then-delete race, with LocalStack's real S3 notifications: a video deleted
seconds after it was duplicated stays deleted when the copy's late ``ObjectCreated`` reaches the
ingest function, and the bucket keeps none of its objects (original copy, renditions, frame)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.aws import client as aws_client
from chalicelib.config import get_settings
from chalicelib.functions.declaration import declared
from scripts.local_dispatcher import dispatch_queue
from tests.support import clips
from tests.support.api import json_body
from tests.support.clips import isolate
from tests.support.media import upload
from tests.support.scheduling import use_resources

DRAIN_SECONDS = 120


def objects(prefix: str = "") -> list[str]:
    listed = aws_client("s3").list_objects_v2(Bucket=get_settings().media_bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def waiting(queue_name: str) -> int:
    sqs = aws_client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drain() -> None:
    """Run every queue-fed function on its queue, as Lambda would, until no message is left."""
    queues = [(spec.queue_name, spec.name) for spec in declared() if spec.queue is not None]
    deadline = time.monotonic() + DRAIN_SECONDS
    while any(waiting(queue) for queue, _ in queues):
        assert time.monotonic() < deadline, [(queue, waiting(queue)) for queue, _ in queues]
        for queue, name in queues:
            dispatch_queue(queue, name)


def test_a_video_deleted_right_after_it_was_duplicated_stays_deleted_and_leaves_nothing(
    localstack: str, client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate(monkeypatch)
    use_resources(monkeypatch, require_endpoint=True)
    clip = clips.silent(tmp_path, seconds=2)
    upload(clip.path, "videos/race/harbour.mp4")
    body = json_body({"filename": "videos/race/harbour.mp4"})
    original = client.http.post("/api/videos", headers=admin_headers, body=body)
    assert original.status_code == 201, original.body
    drain()  # the original's own notification, poster frame and ladder
    source = client.http.get(f"/api/videos/{original.json_body['id']}", headers=admin_headers).json_body
    assert source["processingStatus"] == "ready"

    copy = client.http.post(f"/api/videos/{source['id']}/duplicate", headers=admin_headers, body=json_body({}))
    assert copy.status_code == 201, copy.body
    duplicate = copy.json_body
    assert duplicate["filename"] in objects("videos/")
    assert client.http.delete(f"/api/videos/{duplicate['id']}", headers=admin_headers).status_code == 204

    drain()  # the copy's ObjectCreated (queued by S3 before the delete) arrives now, then its ladder request
    listed = client.http.get("/api/videos", headers=admin_headers).json_body
    assert [(v["id"], v["filename"]) for v in listed["videos"]] == [(source["id"], source["filename"])]
    assert client.http.get(f"/api/videos/{duplicate['id']}", headers=admin_headers).status_code == 404
    remaining = objects()
    assert duplicate["filename"] not in remaining
    assert not [key for key in remaining if key.startswith(f"renditions/{duplicate['id']}/")]
    assert [key for key in remaining if key.startswith("videos/")] == ["videos/race/harbour.mp4"]
    assert [key for key in remaining if key.startswith(f"renditions/{source['id']}/")]  # the source keeps its own
