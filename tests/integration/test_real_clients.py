"""`make dev` as its clients use it: thousands of requests, each on a new TCP connection,
sequential and concurrent, then a count of what the server holds.

A threaded server starts a thread per TCP connection; whatever a request keeps per thread
(a database connection, a file) piles up there, though Lambda (one request at a time per
container) never shows it. After 10,000 tracking requests the server must hold exactly
what it held after 10: database connections, threads, open files. The tools beside a
running `make dev` (`make schedules`, `make token`) must work with no extra environment.

One `make dev`, on a database of its own, serves every test of the module, as one developer's
server serves a day of work: each test measures what it changes.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from chalicelib.db.engine import pg8000_connect_kwargs
from tests.support.database import migrated_database
from tests.support.http import free_port
from tests.support.http import request as http_request
from tests.support.paths import ROOT

# Variables a developer's new shell would not have: the tools must find them on their own.
SHELL_ONLY = {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "PYENV_VERSION", "VIRTUAL_ENV"}


@dataclass(frozen=True)
class DevServer:
    base: str
    dev_process: subprocess.Popen[bytes]
    server_pid: int
    env: dict[str, str]
    database_url: str

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.server_pid}/task"))

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.server_pid}/fd"))


def _server_pid(port: int) -> int:
    """The local server `make dev` started (it runs in its own session)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"scripts.local_server" in command and str(port).encode() in command:
            return int(entry)
    raise AssertionError(f"no local server process on port {port}")


@contextmanager
def make_dev(database_url: str, tmp_path: Path) -> Iterator[DevServer]:
    """``make dev`` (``python -m scripts.dev``) on a free port against ``database_url``, with its own
    embedded AWS emulator and its settings recorded in a private file."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name in SHELL_ONLY}
    env |= {
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "MEDIA_API_DEV_ENV_FILE": str(tmp_path / "dev-env.json"),
        "MEDIA_API_DATA_DIR": str(tmp_path / "data"),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # Encoding the demo clips takes minutes on a busy machine; these tests bring their own videos.
        "DEV_DEMO_LIBRARY": "0",
        # 16 clients share 4 tracking connections; on a CI machine busy with the other test worker a
        # request may wait longer than the default 5 s for one. Waiting is what is tested, not refusing.
        "DATABASE_POOL_WAIT_SECONDS": "30",
    }
    log = (tmp_path / "make-dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.dev"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process, tmp_path / "make-dev.log")
        yield DevServer(base, process, _server_pid(port), env, database_url)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make dev exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.3)
    raise AssertionError(f"make dev did not answer in time:\n{log.read_text()[-3000:]}")


def request(base: str, method: str, path: str, body: Any = None, *, source_ip: str = "127.0.0.1") -> tuple[int, Any]:
    answer = http_request(base, method, path, body, source_ip=source_ip)
    return answer.status, answer.body


def viewer_ip(number: int) -> str:
    """A distinct client address per 40 viewers, so the per-IP rate limits (100 views/min) never refuse one."""
    bucket = number // 40
    return f"127.{1 + bucket // 250}.{bucket % 250}.{1 + number % 40}"


def watch(base: str, video_id: int, number: int) -> list[int]:
    """A player: a view, then a heartbeat of that view (two requests, two TCP connections)."""
    ip = viewer_ip(number)
    status, view = request(base, "POST", "/api/track/view", {"videoId": video_id}, source_ip=ip)
    if status != 200:
        return [status]
    beat = {"viewId": view["viewId"], "viewToken": view["viewToken"], "watchTimeSeconds": 5}
    return [status, request(base, "POST", "/api/track/heartbeat", beat, source_ip=ip)[0]]


def database_connections(database_url: str) -> dict[str, int]:
    admin = pg8000.native.Connection(**pg8000_connect_kwargs(database_url))
    try:
        rows = admin.run(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
            "GROUP BY 1"
        )
        return {str(name): int(count) for name, count in rows}
    finally:
        admin.close()


def stored_views(database_url: str) -> tuple[int, int]:
    admin = pg8000.native.Connection(**pg8000_connect_kwargs(database_url))
    try:
        views, watched = admin.run("SELECT count(*), count(*) FILTER (WHERE watch_time_seconds = 5) FROM video_views")[
            0
        ]
        return int(views), int(watched)
    finally:
        admin.close()


def holdings(server: DevServer, database_url: str) -> tuple[int, int, int]:
    """(tracking database connections, threads, open files) of the server."""
    return database_connections(database_url).get("media-api-tracking", 0), server.threads(), server.open_files()


def settled(server: DevServer, database_url: str, expected: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
    """What the server holds once finished connections are gone: a closed connection's thread and
    PostgreSQL backend exit a moment after the answer, so poll until the counts stop moving (or match)."""
    deadline = time.monotonic() + 15
    previous = holdings(server, database_url)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = holdings(server, database_url)
        if current == expected or (expected is None and current == previous):
            return current
        previous = current
    return previous


def add_videos(database_url: str) -> None:
    """A published and an unpublished video, as a developer's library holds."""
    admin = pg8000.native.Connection(**pg8000_connect_kwargs(database_url))
    try:
        admin.run(
            "INSERT INTO videos (filename, title, duration, file_size, width, height, orientation, quality, "
            "is_published) VALUES ('videos/clients/public.mp4', 'Public', 60, 1, 640, 360, 'H', 'SD', true), "
            "('videos/clients/draft.mp4', 'Draft', 60, 1, 640, 360, 'H', 'SD', false)"
        )
    finally:
        admin.close()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with migrated_database() as database_url:
        add_videos(database_url)
        with make_dev(database_url, tmp_path_factory.mktemp("make-dev")) as server:
            yield server


def test_ten_thousand_tracking_requests_leave_make_dev_holding_what_it_held_after_ten(dev: DevServer) -> None:
    database_url = dev.database_url
    views_before, watched_before = stored_views(database_url)
    status, page = request(dev.base, "GET", "/api/videos?limit=1")
    assert status == 200
    video_id = page["videos"][0]["id"]

    warm_up = [code for number in range(5) for code in watch(dev.base, video_id, number)]
    assert warm_up == [200] * 10
    after_ten = settled(dev, database_url)

    sequential = [code for number in range(5, 2505) for code in watch(dev.base, video_id, number)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = [
            code for codes in pool.map(lambda n: watch(dev.base, video_id, n), range(2505, 5005)) for code in codes
        ]
    after_ten_thousand = settled(dev, database_url, expected=after_ten)

    assert len(sequential) + len(concurrent) == 10_000
    assert set(sequential) == {200} and set(concurrent) == {200}
    assert after_ten_thousand == after_ten, "(tracking connections, threads, open files) grew"
    assert after_ten[0] == 1  # one idle connection kept, as in a Lambda container
    # Every acknowledged view and heartbeat is stored.
    assert stored_views(database_url) == (views_before + 5005, watched_before + 5005)


def test_concurrent_admin_requests_use_a_bounded_pool(dev: DevServer) -> None:
    token = _token_beside(dev)
    host, port = dev.base.removeprefix("http://").split(":")

    def admin_get(_: int) -> int:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", "/api/videos?published=false", headers={"Authorization": f"Bearer {token}"})
        status = connection.getresponse().status
        connection.close()
        return status

    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(admin_get, range(400)))
    assert set(statuses) == {200}
    by_application = database_connections(dev.database_url)
    assert by_application.get("media-api", 0) <= 2 * 6  # pool_size + max_overflow, in the server and dispatcher


def _token_beside(dev: DevServer) -> str:
    """`make token` in a new shell beside the running `make dev`."""
    result = subprocess.run(
        [sys.executable, "-m", "scripts.dev", "token"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k in SHELL_ONLY},
            "MEDIA_API_DEV_ENV_FILE": dev.env["MEDIA_API_DEV_ENV_FILE"],
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_make_token_and_make_schedules_work_beside_make_dev_with_no_extra_environment(dev: DevServer) -> None:
    token = _token_beside(dev)
    host, port = dev.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/api/videos?published=false", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    listing = json.loads(response.read())
    assert response.status == 200 and "Draft" in {video["title"] for video in listing["videos"]}  # an admin's view

    new_shell = {k: v for k, v in os.environ.items() if k in SHELL_ONLY}
    new_shell["MEDIA_API_DEV_ENV_FILE"] = dev.env["MEDIA_API_DEV_ENV_FILE"]
    result = subprocess.run(
        [sys.executable, "-m", "scripts.schedules", "--json"],
        cwd=ROOT,
        env=new_shell,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["scheduler"]["status"] == "up", report["scheduler"]


def test_a_view_tracked_over_http_lands_on_a_far_off_zones_own_day(dev: DevServer) -> None:
    """Whatever the hour, UTC+14 or UTC-11 is on another calendar day than UTC: the report says so."""
    from datetime import UTC, datetime, timedelta

    token = _token_beside(dev)
    status, listing = request(dev.base, "GET", "/api/videos?limit=1")
    assert status == 200 and listing["videos"], listing
    video_id = listing["videos"][0]["id"]
    now = datetime.now(UTC)
    zone, shift = ("Pacific/Kiritimati", 1) if now.hour >= 10 else ("Pacific/Pago_Pago", -1)
    assert request(dev.base, "POST", "/api/track/view", {"videoId": video_id}, source_ip="127.9.9.9")[0] == 200
    utc_day = datetime.now(UTC).date()
    host, port = dev.base.removeprefix("http://").split(":")

    def days_with_views(query: str) -> list[str]:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request(
            "GET", f"/api/videos/{video_id}/analytics?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
        assert response.status == 200, body
        return [point["date"] for point in body["viewsByDay"] if point["views"]]

    today = f"startDate={utc_day - timedelta(days=1)}&endDate={utc_day + timedelta(days=1)}"
    assert days_with_views(f"tz={zone}&{today}") == [(utc_day + timedelta(days=shift)).isoformat()]
    assert days_with_views(today) == [utc_day.isoformat()]
