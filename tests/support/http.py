"""HTTP as the service's real clients send it: a new TCP connection per request (a browser
beacon, a `curl` loop), optionally from another loopback address (any 127.x.y.z reaches
the local server, which reports it as the caller's IP, as API Gateway does)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    seconds: float


def request(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    source_ip: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout, source_address=(source_ip, 0))
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        return Answer(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            json.loads(data) if data else None,
            time.monotonic() - started,
        )
    finally:
        connection.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (a race is possible; start() retries on a bind failure)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
