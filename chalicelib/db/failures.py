"""Which database failures mean "unavailable, try again" (503) rather than a bug (500).

One rule for both ways the service talks to PostgreSQL: SQLAlchemy (which wraps
pg8000's exceptions in its own, keeping the original as ``.orig``) and the tracking
fast path (bare pg8000). Nothing here imports SQLAlchemy, so the tracking entry
point stays free of it; exceptions are recognised by walking their chain.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (53300 too many
# clients), 57 operator intervention (57P01 admin shutdown, 57P02 crash shutdown,
# 57P03 cannot connect now / starting up, 57014 statement timeout).
UNAVAILABLE_CLASSES = ("08", "53", "57")
# Transient conflicts a retry resolves: serialization failure, deadlock, lock not available.
RETRYABLE_STATES = frozenset({"40001", "40P01", "55P03"})
# A row refers to one that is not there (a video deleted under a write, say).
FOREIGN_KEY_VIOLATION = "23503"
# pg8000 raises InterfaceError for lost or refused connections (these messages) and for
# misuse such as a bad parameter type (a bug, not an outage).
_NETWORK_MESSAGES = ("network error", "connection is closed", "communication error", "Can't create a connection")


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE of a pg8000 server error ("" when the error did not come from the server)."""
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return str(details.get("C", ""))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the DB-API error SQLAlchemy wrapped (``orig``), and their causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def is_unavailable(error: BaseException) -> bool:
    """True when PostgreSQL cannot serve the request right now: refused, reset, timed out,
    too many clients, starting up, shutting down, or a transient conflict."""
    for current in _chain(error):
        if _is_pg8000_unavailable(current) or _is_sqlalchemy_unavailable(current):
            return True
        if isinstance(current, ConnectionError | TimeoutError):  # pg8000 can let a reset socket surface bare
            return True
    return False


def _is_pg8000_unavailable(error: BaseException) -> bool:
    from pg8000.exceptions import DatabaseError, InterfaceError

    if isinstance(error, InterfaceError):
        return str(error).startswith(_NETWORK_MESSAGES)
    if isinstance(error, DatabaseError):
        state = sqlstate(error)
        return state.startswith(UNAVAILABLE_CLASSES) or state in RETRYABLE_STATES
    return False


def _is_sqlalchemy_unavailable(error: BaseException) -> bool:
    if "sqlalchemy" not in sys.modules:  # the tracking path never loads it
        return False
    from sqlalchemy import exc

    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):  # pool exhausted, or a dead pooled connection
        return True
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)
