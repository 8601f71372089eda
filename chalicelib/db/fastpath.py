"""The tracking hot path's database access: one server-prepared, autocommitted statement per request.

Every player sends a heartbeat every 10 seconds, so a tracking write must cost about
what one bare INSERT costs. Through SQLAlchemy's default path a statement costs five
round trips (pool pre-ping, BEGIN, pg8000's parse/describe and bind/execute, COMMIT)
plus the pool's bookkeeping; here it costs one:

* a plain pg8000 connection per thread (a Lambda container serves one request at a
  time, so that is one per container), autocommitted: a single data-modifying
  statement is its own transaction and is durable when it returns;
* each statement is prepared once per connection and then run with a single
  ``BIND/EXECUTE/SYNC`` round trip, which also skips planning;
* the connection is pinged only after it sat idle (a frozen container, a proxy's
  idle cut), not before every request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib import errors
from chalicelib.db.engine import database_url, pg8000_connect_kwargs
from chalicelib.observability import logger

# A connection unused for longer than this is pinged before it is used again.
IDLE_PING_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 10


@dataclass
class _Connection:
    url: str
    native: Any
    statements: dict[str, Any] = field(default_factory=dict)
    last_used: float = field(default_factory=time.monotonic)


_local = threading.local()
_open_connections: list[_Connection] = []
_registry_lock = threading.Lock()


def _connect(url: str) -> _Connection:
    import pg8000.native

    native = pg8000.native.Connection(
        **pg8000_connect_kwargs(url), timeout=CONNECT_TIMEOUT_SECONDS, application_name="media-api-tracking"
    )
    connection = _Connection(url, native)
    with _registry_lock:
        _open_connections.append(connection)
    return connection


def _close(connection: _Connection) -> None:
    with _registry_lock:
        if connection in _open_connections:
            _open_connections.remove(connection)
    try:
        connection.native.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone either way
        logger.debug("Closing a tracking connection failed", exc_info=True)
    if getattr(_local, "connection", None) is connection:
        _local.connection = None


def _current() -> _Connection:
    """This thread's connection, opened on first use and checked after an idle spell."""
    url = database_url()
    connection: _Connection | None = getattr(_local, "connection", None)
    if connection is not None and connection.url != url:
        _close(connection)
        connection = None
    if connection is not None and time.monotonic() - connection.last_used > IDLE_PING_SECONDS:
        try:
            connection.native.run("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure means the connection is gone: open a new one
            _close(connection)
            connection = None
    if connection is None:
        connection = _connect(url)
        _local.connection = connection
    return connection


def dispose() -> None:
    """Close every tracking connection (tests, or after the configuration changed)."""
    with _registry_lock:
        connections = list(_open_connections)
    for connection in connections:
        _close(connection)


def run(name: str, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run the prepared statement ``name`` (``:param`` placeholders) and return its rows.

    A broken connection is discarded and reported as :class:`errors.ServiceUnavailable`;
    the statement is not retried because whether it committed is unknown.
    """
    from pg8000.exceptions import DatabaseError, InterfaceError

    try:
        connection = _current()
    except (InterfaceError, OSError) as error:
        raise errors.ServiceUnavailable("Database is unavailable, try again shortly") from error
    try:
        statement = connection.statements.get(name)
        if statement is None:
            statement = connection.statements[name] = connection.native.prepare(sql)
        rows = statement.run(**params) or []
    except (InterfaceError, OSError) as error:
        _close(connection)
        logger.warning("Tracking database connection lost", extra={"error": type(error).__name__})
        raise errors.ServiceUnavailable("Database is unavailable, try again shortly") from error
    except DatabaseError as error:
        state = _sqlstate(error)
        if state.startswith("22"):  # data exception: a value the column cannot hold
            raise errors.Unprocessable("A value is out of range") from error
        if state.startswith(("08", "57")):  # connection exception, operator intervention (shutdown)
            _close(connection)
            raise errors.ServiceUnavailable("Database is unavailable, try again shortly") from error
        raise
    connection.last_used = time.monotonic()
    return rows


def _sqlstate(error: Exception) -> str:
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return str(details.get("C", ""))
