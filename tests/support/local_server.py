"""The local server ``make dev`` runs, started on a free port for a test, and plain JSON over HTTP to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.http import free_port
from tests.support.paths import ROOT


@contextmanager
def local_server(env: dict[str, str], *, log: Path | None = None, own_url: bool = False) -> Iterator[LocalServer]:
    """The local server `make dev` runs (:mod:`scripts.local_server`) on a free port with ``env``.

    Yields a :class:`LocalServer` (``str()`` of it is the base URL); the process runs in
    its own session so a test can count its threads and open files. With ``own_url`` its
    ``MEDIA_API_URL`` is its own base URL, as deployed (the embed page and oEmbed name it).
    """
    port = free_port()
    if own_url:
        env = {**env, "MEDIA_API_URL": f"http://127.0.0.1:{port}"}
    command = [sys.executable, "-m", "scripts.local_server", "--host", "127.0.0.1", "--port", str(port)]
    output = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = LocalServer(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the local server exited with {process.returncode}")
            try:
                urllib.request.urlopen(f"{server.base}/api/openapi.json", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answered
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        if log:
            output.close()  # type: ignore[union-attr]


@dataclass(frozen=True)
class LocalServer:
    """A running local server: its base URL (also its ``str()``) and its process, for resource counts."""

    base: str
    process: subprocess.Popen[bytes]

    def __str__(self) -> str:
        return self.base

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


def http_json(url: str, method: str = "GET", body: bytes | None = None, token: str | None = None) -> tuple[int, Any]:
    """One HTTP request with a JSON body; returns the status and the decoded answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
