"""`make dev` with LocalStack: the resources ``scripts.local_aws`` creates deliver a presigned
upload's S3 notification to the ingest queue, and the local dispatcher turns it into a row."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.adapters.aws import client as aws_client
from chalicelib.db.engine import get_engine
from chalicelib.functions.ingest import INGEST
from scripts.local_aws import ensure_resources
from scripts.local_dispatcher import dispatch_ingest
from tests.support.media import MediaFiles, upload_through_api
from tests.support.scheduling import use_resources

INGEST_WAIT_SECONDS = 10


def _rows() -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM videos ORDER BY id"))]


def _queue_empty() -> bool:
    sqs = aws_client("sqs")
    url = sqs.get_queue_url(QueueName=INGEST.queue_name)["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(int(attributes[name]) == 0 for name in names)


def _dispatch_until(done: Callable[[], bool], timeout: float = INGEST_WAIT_SECONDS) -> None:
    """Dispatcher passes, as `make dev` runs them, until ``done()``: LocalStack notifies asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatch_ingest()
        if done():
            return
        time.sleep(0.25)
    raise AssertionError(f"dispatcher passes did not get there within {timeout}s")


def test_presigned_upload_is_ingested_by_the_dispatcher(
    client: Any,
    admin_headers: dict[str, str],
    localstack: str,
    media_files: MediaFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIA_BUCKET", f"media-dev-{uuid.uuid4().hex[:10]}")
    env = use_resources(monkeypatch, require_endpoint=True)
    assert ensure_resources() == env  # idempotent against LocalStack too
    data = media_files.landscape.read_bytes()
    ticket = upload_through_api(client, admin_headers, data, "Harbour at dawn.mp4")

    _dispatch_until(lambda: bool(_rows()))
    [row] = _rows()

    assert row["filename"] == ticket["key"] and row["title"] == "Harbour at dawn"
    assert (row["width"], row["height"], row["orientation"], row["quality"]) == (1920, 1080, "H", "FHD")
    assert (row["duration"], row["has_audio"], row["file_size"]) == (3, True, len(data))
    _dispatch_until(_queue_empty)  # every message (S3's test events too) handled and deleted
