"""The one place AWS clients are made.

boto3 is imported here, lazily, so paths that never call AWS (tracking, the
video library) do not pay its import on a cold start. ``AWS_ENDPOINT_URL``
points every client at LocalStack or a moto server; unset, clients talk to AWS.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import get_settings


@cache
def client(service: str) -> Any:
    """A cached boto3 client for ``service`` (one per container, thread-safe to share)."""
    import boto3
    from botocore.config import Config

    settings = get_settings()
    return boto3.session.Session().client(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url or None,
        config=Config(
            connect_timeout=3,
            read_timeout=10,
            retries={"max_attempts": 3, "mode": "standard"},
            # SigV4 presigned URLs sign Content-Type/Content-Length (upload size cap); SigV2 signs neither.
            **({"signature_version": "s3v4"} if service == "s3" else {}),
        ),
    )


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints between moto and LocalStack)."""
    client.cache_clear()
