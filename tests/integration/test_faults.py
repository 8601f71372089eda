"""Dependencies failing under load: PostgreSQL stopped, crashed and full, an AWS emulator frozen.

The answer to a request that cannot be served is a fast 503 with ``Retry-After`` and the
JSON error shape, never a 500 or a hang past API Gateway's 29 s; and nothing a client
was told is stored (a 2xx) may be lost. PostgreSQL here is a private server each test
starts (the shared one must never be stopped); the AWS emulator a moto server in its
own process, frozen with SIGSTOP.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import token_for
from tests.support.env import BASE_ENV
from tests.support.http import Answer, request
from tests.support.local_server import LocalServer, local_server
from tests.support.moto_process import MotoProcess
from tests.support.paths import ROOT
from tests.support.private_postgres import PrivatePostgres

FAST_SECONDS = 5.0  # well under API Gateway's 29 s
AWS_HANG_LIMIT_SECONDS = 10.0


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def seed(pg: PrivatePostgres, database: str) -> tuple[int, int]:
    """A published ten-minute video and an admin; returns their ids."""
    video = pg.query(
        "INSERT INTO videos (filename, duration, file_size, width, height, orientation, quality, is_published) "
        "VALUES ('faults/clip.mp4', 600, 1000, 1280, 720, 'H', 'HD', true) RETURNING id",
        database=database,
    )[0][0]
    admin = pg.query(
        "INSERT INTO users (email, name, role) VALUES ('ops@example.test', 'Ops', 'SUPER_ADMIN') RETURNING id",
        database=database,
    )[0][0]
    return int(video), int(admin)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    with PrivatePostgres(max_connections=30) as pg:
        yield pg


@dataclass
class Load:
    """Players and an admin hammering the server from other threads; everything they were told is kept."""

    server: LocalServer
    video_id: int
    admin_token: str
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    acknowledged_views: set[int] = field(default_factory=set)
    acknowledged_watch: dict[int, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def player(self, number: int) -> None:
        """Views in a row, each followed by heartbeats whose watch time is the time since it started."""
        ip = f"127.20.{number}.1"
        view: dict[str, Any] | None = None
        started = beats = 0.0
        while not self.stop.is_set():
            if view is None:
                answer = request(self.server.base, "POST", "/api/track/view", {"videoId": self.video_id}, source_ip=ip)
                self.record("view", answer)
                if answer.status == 200:
                    view, started, beats = answer.body, time.monotonic(), 0
                    with self.lock:
                        self.acknowledged_views.add(view["viewId"])
                continue
            seconds = int(time.monotonic() - started)
            beat = {"viewId": view["viewId"], "viewToken": view["viewToken"], "watchTimeSeconds": seconds}
            answer = request(self.server.base, "POST", "/api/track/heartbeat", beat, source_ip=ip)
            self.record("heartbeat", answer)
            if answer.status == 200:
                with self.lock:
                    self.acknowledged_watch[view["viewId"]] = seconds
            beats += 1
            if beats >= 15:
                view = None
            time.sleep(0.05)

    def admin(self) -> None:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        while not self.stop.is_set():
            self.record("admin", request(self.server.base, "GET", "/api/videos?limit=5", headers=headers))
            time.sleep(0.05)

    def record(self, kind: str, answer: Answer) -> None:
        with self.lock:
            self.answers.append((kind, answer))

    def statuses_since(self, mark: int) -> set[int]:
        with self.lock:
            return {answer.status for _, answer in self.answers[mark:]}

    def mark(self) -> int:
        with self.lock:
            return len(self.answers)


def wait_until(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_postgres_stopped_and_crashed_under_load_gives_fast_503s_and_loses_nothing_acknowledged(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_pg.create_database("media")
    migrate(url)
    video_id, admin_id = seed(private_pg, "media")
    env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": url,
        "DATABASE_TIMEOUT_SECONDS": "5",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    with local_server(env, log=tmp_path / "server.log") as server:
        load = Load(server, video_id, token_for(admin_id))
        workers = [threading.Thread(target=load.player, args=(n,)) for n in range(6)]
        workers.append(threading.Thread(target=load.admin))
        for worker in workers:
            worker.start()
        try:
            wait_until(lambda: 200 in load.statuses_since(0))
            for outage in (private_pg.stop_fast, private_pg.crash):
                outage()
                mark = load.mark()
                wait_until(lambda mark=mark: 503 in load.statuses_since(mark))
                time.sleep(1.0)
                private_pg.start()  # after the crash this runs recovery (57P03 until it is done)
                mark = load.mark()
                wait_until(
                    lambda mark=mark: {"view": 200, "heartbeat": 200, "admin": 200}.items() <= _recent(load, mark)
                )
        finally:
            load.stop.set()
            for worker in workers:
                worker.join(timeout=60)

    statuses = {answer.status for _, answer in load.answers}
    assert statuses <= {200, 503}, statuses
    unavailable = [answer for _, answer in load.answers if answer.status == 503]
    assert unavailable, "no request met the outage"
    for answer in unavailable:
        assert answer.body["error"] == "ServiceUnavailable" and answer.body["message"]
        assert int(answer.headers["retry-after"]) >= 1
    assert max(answer.seconds for _, answer in load.answers) < FAST_SECONDS

    stored = {
        row[0]: row[1] for row in private_pg.query("SELECT id, watch_time_seconds FROM video_views", database="media")
    }
    assert load.acknowledged_views <= set(stored), "an acknowledged view was lost"
    for view_id, seconds in load.acknowledged_watch.items():
        assert stored[view_id] >= seconds, f"view {view_id}: acknowledged {seconds} s, stored {stored[view_id]} s"


def _recent(load: Load, mark: int) -> set[tuple[str, int]]:
    with load.lock:
        return {(kind, answer.status) for kind, answer in load.answers[mark:]}


def test_too_many_clients_at_connect_time_is_a_503_for_tracking_and_admin_routes(
    tmp_path: Path,
) -> None:
    with PrivatePostgres(max_connections=6) as pg:
        url = pg.create_database("media")
        migrate(url)
        video_id, admin_id = seed(pg, "media")
        env = {**os.environ, **BASE_ENV, "DATABASE_URL": url, "POWERTOOLS_LOG_LEVEL": "ERROR"}
        with local_server(env, log=tmp_path / "server.log") as server:
            hogs = []
            try:
                while True:  # take every slot the server has
                    hogs.append(pg.connect())
            except Exception:  # noqa: BLE001 - "sorry, too many clients already": every slot is taken
                pass
            view = request(server.base, "POST", "/api/track/view", {"videoId": video_id}, source_ip="127.30.0.1")
            admin = request(
                server.base, "GET", "/api/videos", headers={"Authorization": f"Bearer {token_for(admin_id)}"}
            )
            for hog in hogs:
                hog.close()
            after = request(server.base, "POST", "/api/track/view", {"videoId": video_id}, source_ip="127.30.0.1")

    for answer in (view, admin):
        assert answer.status == 503, answer.body
        assert answer.body["error"] == "ServiceUnavailable" and "retry-after" in answer.headers
        assert answer.seconds < FAST_SECONDS
    assert after.status == 200


@pytest.fixture
def moto() -> Iterator[MotoProcess]:
    with MotoProcess() as process:
        yield process


def test_a_frozen_aws_endpoint_gives_503_within_10_seconds_and_changes_nothing(
    moto: MotoProcess, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, admin_id: int
) -> None:
    from chalicelib.adapters.aws import client
    from tests.support.scheduling import history_rows, in_minutes, use_resources

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    aws = use_resources(monkeypatch, require_endpoint=True)
    client("s3").put_object(Bucket=aws["MEDIA_BUCKET"], Key="videos/a/clip.mp4", Body=b"not really a video")
    env = {**os.environ, **BASE_ENV, **aws, "DATABASE_URL": database_url, "POWERTOOLS_LOG_LEVEL": "ERROR"}
    headers = {"Authorization": f"Bearer {token_for(admin_id)}"}
    with local_server(env, log=tmp_path / "server.log") as server:
        created = request(
            server.base,
            "POST",
            "/api/videos",
            {"filename": "videos/a/clip.mp4", "duration": 60, "fileSize": 18, "width": 640, "height": 360},
            headers=headers,
        ).body
        video = created["id"]
        pending = request(
            server.base,
            "POST",
            f"/api/videos/{video}/schedule-unpublish",
            {"unpublishAt": in_minutes(90)},
            headers=headers,
        )
        assert pending.status == 200, pending.body

        moto.freeze()
        try:
            calls = {
                "schedule": ("POST", f"/api/videos/{video}/schedule-publish", {"publishAt": in_minutes(30)}),
                "cancel": ("DELETE", f"/api/videos/{video}/schedule/unpublish", None),
                "duplicate": ("POST", f"/api/videos/{video}/duplicate", None),
                "ingest": ("POST", "/api/videos", {"filename": "videos/a/clip.mp4"}),
                "health": ("GET", "/api/health", None),
            }
            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                futures = {
                    name: pool.submit(request, server.base, method, path, body, headers=headers)
                    for name, (method, path, body) in calls.items()
                }
                answers = {name: future.result() for name, future in futures.items()}
        finally:
            moto.thaw()
        listing = request(server.base, "GET", "/api/videos?published=false", headers=headers).body

    for name in ("schedule", "cancel", "duplicate", "ingest"):
        answer = answers[name]
        assert answer.status == 503, (name, answer.body)
        assert answer.body["error"] == "ServiceUnavailable" and int(answer.headers["retry-after"]) >= 1
    health = answers["health"]
    assert health.status == 200 and health.body["status"] == "degraded"
    assert health.body["scheduler"]["status"] == "down"
    assert max(answer.seconds for answer in answers.values()) < AWS_HANG_LIMIT_SECONDS
    # Nothing changed in the database: one video, its unpublish still pending, no publish scheduled.
    assert listing["total"] == 1
    assert [(row["action"], row["status"]) for row in history_rows(video)] == [("unpublish", "pending")]
    # A call that timed out may still have reached AWS once it woke up (here: the DeleteSchedule of
    # the refused cancel). The reconcile step puts Scheduler back in line with the database.
    from chalicelib.services.scheduling.reconciliation import reconcile

    reconcile(now=datetime.now(UTC) + timedelta(minutes=3))
    scheduled = client("scheduler").list_schedules(GroupName=aws["VIDEO_SCHEDULE_GROUP"])["Schedules"]
    assert [item["Name"] for item in scheduled] == [f"video-{video}-unpublish"]
