"""The tracking path's connection pool: bounded, waiting briefly when every connection is lent."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib.db.fastpath import _Pool
from chalicelib.domain import errors


def test_a_borrower_waits_for_the_connection_another_returns(database: str) -> None:
    pool = _Pool(1)
    first = pool.acquire(database, wait_seconds=1)
    borrowed: list[object] = []
    waiter = threading.Thread(target=lambda: borrowed.append(pool.acquire(database, wait_seconds=10)))
    waiter.start()
    time.sleep(0.2)
    assert not borrowed  # every connection is lent: it waits
    pool.release(first)
    waiter.join(5)
    assert borrowed == [first]  # the returned connection, not a new one
    assert pool.open_count == 1
    pool.release(first)
    pool.close_idle()
    assert pool.open_count == 0


def test_a_borrower_that_waits_too_long_gets_503(database: str) -> None:
    pool = _Pool(1)
    held = pool.acquire(database, wait_seconds=1)
    started = time.monotonic()
    with pytest.raises(errors.ServiceUnavailable):
        pool.acquire(database, wait_seconds=0.3)
    assert time.monotonic() - started >= 0.3
    pool.release(held)
    assert pool.acquire(database, wait_seconds=0) is held  # the refused borrower took no slot
    pool.release(held)
    pool.close_idle()


def test_a_broken_connection_is_closed_and_its_slot_freed(database: str) -> None:
    pool = _Pool(1)
    connection = pool.acquire(database, wait_seconds=1)
    connection.broken = True
    pool.release(connection)
    assert pool.open_count == 0
    fresh = pool.acquire(database, wait_seconds=0)
    assert fresh is not connection and fresh.native.run("SELECT 1") == [[1]]
    pool.release(fresh)
    pool.close_idle()


def test_a_connection_that_cannot_be_opened_frees_its_slot(database: str) -> None:
    pool = _Pool(1)
    nowhere = "postgresql://postgres@127.0.0.1:1/nothing"
    for _ in range(2):  # the second attempt would wait for a slot, and time out, had the first kept it
        with pytest.raises(Exception) as failure:
            pool.acquire(nowhere, wait_seconds=0)
        assert not isinstance(failure.value, errors.ServiceUnavailable)
    assert pool.open_count == 0


def test_a_refused_value_keeps_the_connection_and_an_unknown_failure_drops_it(database: str) -> None:
    from pg8000.exceptions import DatabaseError

    from chalicelib.db import fastpath

    fastpath.run("probe", "SELECT 1", {})
    [connection] = fastpath.pool()._idle
    with pytest.raises(errors.Unprocessable):
        fastpath.run("out_of_range", "SELECT CAST(:value AS smallint)", {"value": 100000})
    assert fastpath.pool()._idle == [connection]
    with pytest.raises(DatabaseError):
        fastpath.run("no_such_table", "SELECT * FROM no_such_table", {})
    assert connection not in fastpath.pool()._idle and connection.broken
