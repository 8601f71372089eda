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
from collections.abc import Iterator
from contextlib import contextmanager
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
    """At most ``size`` open connections, at most :data:`KEEP_IDLE` of them idle."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self.open_count = 0

    def acquire(self, url: str, wait_seconds: float) -> _Connection:
        if not self._slots.acquire(timeout=wait_seconds):
            raise errors.ServiceUnavailable("Too many concurrent requests for the database, try again shortly")
        try:
            return self._checkout(url)
        except BaseException:
            self._slots.release()
            raise

    def release(self, connection: _Connection) -> None:
        with self._lock:
            keep = not connection.broken and len(self._idle) < KEEP_IDLE
            if keep:
                self._idle.append(connection)
        if not keep:
            self._close(connection)
        self._slots.release()

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            self._close(connection)

    def _checkout(self, url: str) -> _Connection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(url)
            if connection.url == url and self._alive(connection):
                return connection
            self._close(connection)

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


@contextmanager
def _borrowed() -> Iterator[_Connection]:
    current = pool()
    try:
        connection = current.acquire(database_url(), get_settings().database_pool_wait_seconds)
    except errors.DomainError:
        raise
    except Exception as error:
        if is_unavailable(error):
            logger.warning("Tracking database unreachable", extra={"error": type(error).__name__})
            raise errors.ServiceUnavailable(UNAVAILABLE) from error
        raise
    try:
        yield connection
    except errors.DomainError:
        raise
    except BaseException:
        connection.broken = True  # an unexpected failure leaves the connection in an unknown state
        raise
    finally:
        current.release(connection)


def run(name: str, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run the prepared statement ``name`` (``:param`` placeholders) and return its rows.

    Any way PostgreSQL can be unavailable is reported as :class:`errors.ServiceUnavailable`
    and the connection discarded; the statement is not retried because whether it
    committed is unknown (and a 503 tells the client to send it again).
    """
    from pg8000.exceptions import DatabaseError

    with _borrowed() as connection:
        try:
            statement = connection.statements.get(name)
            if statement is None:
                statement = connection.statements[name] = connection.native.prepare(sql)
            rows = statement.run(**params) or []
        except Exception as error:
            if is_unavailable(error):
                connection.broken = True
                logger.warning("Tracking database unavailable", extra={"error": type(error).__name__})
                raise errors.ServiceUnavailable(UNAVAILABLE) from error
            if isinstance(error, DatabaseError) and sqlstate(error).startswith("22"):
                raise errors.Unprocessable("A value is out of range") from error  # data exception
            if isinstance(error, DatabaseError) and sqlstate(error) == FOREIGN_KEY_VIOLATION:
                # The statements lock the video they write for; should a row still vanish under a
                # write (deleted at that moment), nothing was written and there is nothing to write to.
                raise errors.NotFound("The video was deleted") from error
            raise
        connection.last_used = time.monotonic()
        return rows
