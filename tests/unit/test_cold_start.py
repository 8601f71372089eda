"""Cold start: importing the Lambda entry point must not import boto3.

boto3 costs about 80 ms of import on every cold start; only code paths that call
AWS load it (through chalicelib/adapters/aws.py). A fresh interpreter shows what app.py pulls in.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.paths import ROOT


def test_importing_the_app_does_not_import_boto3() -> None:
    probe = (
        "import json, sys; import app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {'boto3', 'botocore', 'jwt'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    # Powertools imports the bare ``botocore`` package (0.4 ms) for its version; the SDK
    # itself (boto3, botocore.session/client/...) must stay unloaded.
    assert not [name for name in loaded if name.startswith(("boto3", "botocore."))], loaded
    assert "jwt" in loaded  # the probe itself works: auth is on every request path


def _fresh_import(module: str) -> tuple[set[str], float]:
    """The top-level packages a fresh interpreter loads importing ``module``, and how long it took
    (``make bench`` prints the times; a test only looks at what is loaded)."""
    probe = (
        "import json, sys, time; started = time.perf_counter(); "
        f"import {module}; seconds = time.perf_counter() - started; "
        "print(json.dumps([sorted({m.split('.')[0] for m in sys.modules}), seconds, "
        "sorted(m for m in sys.modules if m.startswith('sqlalchemy'))]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    packages, seconds, sqlalchemy = json.loads(result.stdout.strip().splitlines()[-1])
    return set(packages) | set(sqlalchemy), seconds


def test_the_tracking_function_imports_neither_the_aws_sdk_nor_sqlalchemy() -> None:
    """Its handler (``chalicelib.entry.tracking.app``) carries the public beacons: the cold start that matters."""
    tracking, _ = _fresh_import("chalicelib.entry.tracking")
    whole, _ = _fresh_import("app")
    assert {"chalice", "pydantic", "aws_lambda_powertools"} <= tracking  # pg8000 comes with the first request
    # (cryptography does load: pyjwt imports it whenever it is installed, and tokens are optional here.)
    assert not tracking & {"boto3", "s3transfer", "sqlalchemy", "alembic"}, tracking
    assert {"sqlalchemy"} <= whole  # the whole app does load it (the admin routes' ORM)
