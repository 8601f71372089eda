"""The one place AWS clients are made.

boto3 is imported here, lazily, so paths that never call AWS (tracking, the
video library) do not pay its import on a cold start. ``AWS_ENDPOINT_URL``
points every client at LocalStack or a moto server; unset, clients talk to AWS.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import get_settings

# A hung AWS endpoint must cost a request well under API Gateway's 29 s: at most two
# attempts of (2 s connect + 3 s read) plus up to 1 s of backoff, so a 503 within 10 s.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3
TOTAL_ATTEMPTS = 2


@cache
def _models() -> Any:
    """botocore's loader of service models and endpoints, shared by every session: the JSON it
    parses (endpoints alone take a third of a second) is parsed once per process, not once per client."""
    from botocore.loaders import create_loader

    return create_loader()


def new_session() -> Any:
    """A boto3 session of its own (sessions are not thread-safe; clients are) on the shared models."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _models())
    return boto3.session.Session(botocore_session=core)


@cache
def client(service: str) -> Any:
    """A cached boto3 client for ``service`` (one per container, thread-safe to share)."""
    from botocore.config import Config

    settings = get_settings()
    return new_session().client(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url or None,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"total_max_attempts": TOTAL_ATTEMPTS, "mode": "standard"},
            # SigV4 presigned URLs sign Content-Type/Content-Length (upload size cap); SigV2 signs neither.
            **({"signature_version": "s3v4"} if service == "s3" else {}),
        ),
    )


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints between moto and LocalStack)."""
    client.cache_clear()
