"""Proof that the fault-injection helpers do what fault tests rely on.

A private PostgreSQL that can be crashed and recovered without touching the
shared server, and a moto server process that can be frozen into a hung
endpoint and thawed again.
"""

from __future__ import annotations

import os
import time

import boto3
import botocore.exceptions
import pg8000.exceptions
import pg8000.native
import pytest
from botocore.config import Config

from tests.support.moto_process import MotoProcess, moto_process_fixture
from tests.support.private_postgres import PrivatePostgres, private_postgres_fixture, process_alive

private_pg = private_postgres_fixture()
moto_server = moto_process_fixture()

# botocore reads retries.max_attempts as *retries*: this is 2 attempts, so a hung call fails after about 2 s.
# ``{"total_max_attempts": 1}`` would be a single attempt (about 1 s).
HUNG_CALL_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})


def test_committed_row_survives_crash_and_recovery(private_pg: PrivatePostgres) -> None:
    assert private_pg.port != 5432
    url = private_pg.create_database("durability")
    assert url == f"postgresql://postgres@127.0.0.1:{private_pg.port}/durability"
    conn = private_pg.connect("durability")
    conn.run("CREATE TABLE events (id int PRIMARY KEY, body text)")
    conn.run("INSERT INTO events VALUES (1, 'committed')")  # autocommitted
    conn.close()

    private_pg.crash()
    assert not private_pg.running
    with pytest.raises(pg8000.exceptions.InterfaceError):
        private_pg.connect(timeout=1)

    private_pg.start()  # recovery; returns only once a real query works
    assert "automatic recovery in progress" in private_pg.log_tail(50)
    assert private_pg.query("SELECT body FROM events WHERE id = 1", database="durability") == [["committed"]]


def test_stop_fast_makes_new_connections_fail_fast(private_pg: PrivatePostgres) -> None:
    held = private_pg.connect(application_name="held")
    private_pg.stop_fast()

    started = time.monotonic()
    with pytest.raises(pg8000.exceptions.InterfaceError):
        pg8000.native.Connection(user="postgres", host="127.0.0.1", port=private_pg.port, timeout=5)
    assert time.monotonic() - started < 1.0
    with pytest.raises(pg8000.exceptions.InterfaceError):
        held.run("SELECT 1")  # the server closed it on shutdown

    private_pg.restart()
    assert private_pg.query("SELECT 1") == [[1]]


def test_connection_count_sees_an_open_connection(private_pg: PrivatePostgres) -> None:
    assert private_pg.connection_count() == 0  # the asking connection is not counted
    conn = pg8000.native.Connection(
        user="postgres", host="127.0.0.1", port=private_pg.port, application_name="pool-a-1"
    )
    assert private_pg.connection_count() == 1
    assert private_pg.connection_count("pool-a") == 1
    assert private_pg.connection_count("pool-b") == 0
    conn.close()
    deadline = time.monotonic() + 2  # backend exit after Terminate is asynchronous
    while private_pg.connection_count("pool-a") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert private_pg.connection_count("pool-a") == 0


def test_destroy_stops_the_server_and_removes_its_dir() -> None:
    with PrivatePostgres(max_connections=7) as pg:
        assert pg.query("SHOW max_connections") == [["7"]]
        assert pg.unix_socket.exists()
        base_dir, pid = pg.base_dir, pg.pid
    assert pid is not None
    assert not base_dir.exists()
    assert not process_alive(pid)  # may linger briefly as a zombie of PID 1


def test_moto_process_answers_hangs_when_frozen_and_recovers(moto_server: MotoProcess) -> None:
    s3 = boto3.client("s3", config=HUNG_CALL_CONFIG, **moto_server.client_kwargs())
    s3.create_bucket(Bucket="fault-support")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fault-support"]

    moto_server.freeze()
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        s3.list_buckets()
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5.0

    moto_server.thaw()
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fault-support"]


def test_frozen_moto_process_stops_without_hanging() -> None:
    moto = MotoProcess().start()
    pid = moto.pid
    assert pid is not None
    moto.freeze()
    started = time.monotonic()
    moto.stop()
    assert time.monotonic() - started < 3.0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
