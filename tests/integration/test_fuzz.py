"""Property-based fuzzing of every operation, driven by the service's own OpenAPI document.

Schemathesis (the ecosystem's OpenAPI fuzzer) generates valid and invalid requests for
each operation from ``/api/openapi.json`` and sends them, with an admin token, over real
HTTP to the local server `make dev` runs (backed by real PostgreSQL and LocalStack). The
run fails on any 5xx and on any answer that does not match its documented schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pg8000.native
import pytest

from chalicelib.db.engine import pg8000_connect_kwargs
from tests.support.api import token_for
from tests.support.env import BASE_ENV
from tests.support.local_server import local_server
from tests.support.scheduling import use_resources

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES_PER_OPERATION = "15"
SEED = "20261127"


@contextmanager
def rate_limits_lifted(database_url: str) -> Iterator[None]:
    """Empty the rate-limit windows every 100 ms: the fuzzer sends thousands of requests from one
    address, and a wall of 429s would hide what the operations behind the limit do."""
    stop = threading.Event()
    connection = pg8000.native.Connection(**pg8000_connect_kwargs(database_url))

    def clear() -> None:
        while not stop.wait(0.1):
            connection.run("DELETE FROM rate_limit_counters")

    thread = threading.Thread(target=clear, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        connection.close()


def test_fuzzing_every_operation_finds_no_server_error_and_no_undocumented_answer(
    database_url: str, localstack: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scripts.demo_data import DEV_ADMIN_ID, ensure_demo_data

    aws = use_resources(monkeypatch, require_endpoint=True)
    ensure_demo_data()  # an admin (user 1) and five videos, ids 1-5, for the fuzzer to find
    env = {**os.environ, **BASE_ENV, **aws, "DATABASE_URL": database_url, "POWERTOOLS_LOG_LEVEL": "ERROR"}
    with local_server(env, log=tmp_path / "server.log") as server, rate_limits_lifted(database_url):
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{server}/api/openapi.json",
                "--url",
                str(server),
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--max-examples",
                EXAMPLES_PER_OPERATION,
                "--seed",
                SEED,
                "--header",
                f"Authorization: Bearer {token_for(DEV_ADMIN_ID)}",
                # One worker: on CPython 3.11.7 hypothesis' lambda descriptions (ast.parse) in two
                # threads at once can fail with "AST constructor recursion depth mismatch" (gh-106905).
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--suppress-health-check",
                "all",
                "--no-color",
                "--generation-database",
                "none",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    report = result.stdout[-8000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "passed" in result.stdout and "generated" in result.stdout, report
