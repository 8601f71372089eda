"""The tracking hot path's database access: one server-prepared, autocommitted statement per request.

Every player sends a heartbeat every 10 seconds, so a tracking write must cost about
what one bare INSERT costs. Through SQLAlchemy's default path a statement costs five
round trips (pool pre-ping, BEGIN, pg8000's parse/describe and bind/execute, COMMIT)
plus the pool's bookkeeping; here it costs one:

* plain pg8000 connections, autocommitted: a single data-modifying statement is its
  own transaction and is durable when it returns;
* each statement is prepared once per connection and then run with a single
  ``BIND/EXECUTE/SYNC`` round trip, which also skips planning;
* a connection is pinged only after it sat idle (a frozen container, a proxy's idle
  cut), not before every request.

Connections live in a small per-process pool, never per thread: a Lambda container
serves one request at a time and keeps exactly one connection, while a threaded
server (``chalice local`` starts a thread per TCP connection) borrows from the same
few instead of leaving one idle backend behind per thread. At most
``DATABASE_TRACKING_POOL_SIZE`` are open at once and one is kept idle; a request that
finds them all busy waits briefly, then gets a 503.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pg8000.native

from chalicelib.config import get_settings
from chalicelib.db.engine import database_url, pg8000_connect_kwargs
from chalicelib.db.failures import FOREIGN_KEY_VIOLATION, is_unavailable, sqlstate
from chalicelib.domain import errors
from chalicelib.observability import logger

# A connection unused for longer than this is pinged before it is used again.
IDLE_PING_SECONDS = 5.0
# Connections kept open while nobody uses them (a Lambda container needs exactly one).
KEEP_IDLE = 1
UNAVAILABLE = "Database is unavailable, try again shortly"


@dataclass
class _Connection:
    url: str
    native: Any
    statements: dict[str, Any] = field(default_factory=dict)
    last_used: float = field(default_factory=time.monotonic)
    broken: bool = False


class _Pool:
    """At most ``size`` open connections, at most :data:`KEEP_IDLE` of them idle.

    One lock guards the count and the idle list, so borrowing and returning take one acquisition each
    (a semaphore beside a lock took four: docs/benchmark.md); a borrower finding every connection busy
    waits on the lock's condition.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._lent = 0
        self._waiting = 0
        self.open_count = 0

    def acquire(self, url: str, wait_seconds: float) -> _Connection:
        with self._lock:
            if self._lent >= self.size and not self._wait_for_one(wait_seconds):
                raise errors.ServiceUnavailable("Too many concurrent requests for the database, try again shortly")
            self._lent += 1
            connection = self._idle.pop() if self._idle else None
        try:
            return self._checkout(url, connection)
        except BaseException:
            self._give_back(None)
            raise

    def release(self, connection: _Connection) -> None:
        self._give_back(connection)

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            self._close(connection)

    def _wait_for_one(self, wait_seconds: float) -> bool:
        self._waiting += 1
        try:
            return self._returned.wait_for(lambda: self._lent < self.size, wait_seconds)
        finally:
            self._waiting -= 1

    def _give_back(self, connection: _Connection | None) -> None:
        """The borrower's slot back; ``connection`` kept idle if it works and there is room, closed otherwise."""
        with self._lock:
            self._lent -= 1
            if connection is not None and not connection.broken and len(self._idle) < KEEP_IDLE:
                self._idle.append(connection)
                connection = None
            if self._waiting:
                self._returned.notify()
        if connection is not None:
            self._close(connection)

    def _checkout(self, url: str, connection: _Connection | None) -> _Connection:
        while connection is not None:
            if connection.url == url and self._alive(connection):
                return connection
            self._close(connection)
            with self._lock:
                connection = self._idle.pop() if self._idle else None
        return self._connect(url)

    @staticmethod
    def _alive(connection: _Connection) -> bool:
        if time.monotonic() - connection.last_used <= IDLE_PING_SECONDS:
            return True
        try:
            connection.native.run("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure means the connection is gone: open a new one
            return False
        return True

    def _connect(self, url: str) -> _Connection:
        settings = get_settings()
        native = pg8000.native.Connection(
            **pg8000_connect_kwargs(url),
            timeout=settings.database_timeout_seconds,
            application_name="media-api-tracking",
        )
        with self._lock:
            self.open_count += 1
        return _Connection(url, native)

    def _close(self, connection: _Connection) -> None:
        with self._lock:
            self.open_count -= 1
        try:
            connection.native.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone either way
            logger.debug("Closing a tracking connection failed", exc_info=True)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def pool() -> _Pool:
    global _pool
    current = _pool
    if current is not None:
        return current
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(get_settings().tracking_pool_size)
        return _pool


def dispose() -> None:
    """Close the idle tracking connections and forget the pool (tests, or after the configuration changed)."""
    global _pool
    with _pool_lock:
        current, _pool = _pool, None
    if current is not None:
        current.close_idle()


def _borrow() -> tuple[_Pool, _Connection]:
    current = pool()
    try:
        return current, current.acquire(database_url(), get_settings().database_pool_wait_seconds)
    except errors.DomainError:
        raise
    except Exception as error:
        if is_unavailable(error):
            logger.warning("Tracking database unreachable", extra={"error": type(error).__name__})
            raise errors.ServiceUnavailable(UNAVAILABLE) from error
        raise


def run(name: str, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run the prepared statement ``name`` (``:param`` placeholders) and return its rows.

    Any way PostgreSQL can be unavailable is reported as :class:`errors.ServiceUnavailable`
    and the connection discarded; the statement is not retried because whether it
    committed is unknown (and a 503 tells the client to send it again).
    """
    current, connection = _borrow()
    try:
        statement = connection.statements.get(name)
        if statement is None:
            statement = connection.statements[name] = connection.native.prepare(sql)
        rows = statement.run(**params) or []
    except BaseException as error:
        failure = _failure(error)
        # A refused value or a vanished row leaves the connection as it was; anything else, an unknown
        # state: it is never handed out again.
        connection.broken = not isinstance(failure, errors.Unprocessable | errors.NotFound)
        if failure is error:
            raise
        raise failure from error
    finally:
        current.release(connection)
    connection.last_used = time.monotonic()
    return rows


def _failure(error: BaseException) -> BaseException:
    """What a statement's failure means to the request: an outage (503), a refused value (422), a row
    deleted under the write (404), or the error itself."""
    from pg8000.exceptions import DatabaseError

    if is_unavailable(error):
        logger.warning("Tracking database unavailable", extra={"error": type(error).__name__})
        return errors.ServiceUnavailable(UNAVAILABLE)
    if isinstance(error, DatabaseError) and sqlstate(error).startswith("22"):
        return errors.Unprocessable("A value is out of range")  # data exception
    if isinstance(error, DatabaseError) and sqlstate(error) == FOREIGN_KEY_VIOLATION:
        # The statements lock the video they write for; should a row still vanish under a
        # write (deleted at that moment), nothing was written and there is nothing to write to.
        return errors.NotFound("The video was deleted")
    return error
