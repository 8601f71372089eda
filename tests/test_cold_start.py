"""Cold start: importing the Lambda entry point must not import boto3.

boto3 costs about 80 ms of import on every cold start; only code paths that call
AWS load it (through chalicelib/aws.py). A fresh interpreter shows what app.py pulls in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
