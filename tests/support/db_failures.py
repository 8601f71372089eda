"""PostgreSQL failures as pg8000 and SQLAlchemy raise them: the outages (a 503) and the bugs (a 500)."""

from __future__ import annotations

from pg8000.exceptions import DatabaseError, InterfaceError
from sqlalchemy import exc as sa_exc


def server_error(code: str, message: str = "server says no") -> DatabaseError:
    return DatabaseError({"S": "FATAL", "C": code, "M": message})


def network_error(message: str = "network error") -> InterfaceError:
    try:
        raise InterfaceError(message) from TimeoutError("timed out")
    except InterfaceError as error:
        return error


def wrapped(error: BaseException) -> sa_exc.DBAPIError:
    """The error as SQLAlchemy re-raises it around a pg8000 DB-API error."""
    return sa_exc.DBAPIError.instance("SELECT 1", {}, error, DatabaseError)  # type: ignore[arg-type]


UNAVAILABLE = {
    "too many clients": server_error("53300", "sorry, too many clients already"),
    "starting up": server_error("57P03", "the database system is starting up"),
    "shutting down": server_error("57P01", "terminating connection due to administrator command"),
    "crash shutdown": server_error("57P02"),
    "statement timeout": server_error("57014"),
    "connection failure": server_error("08006"),
    "serialization failure": server_error("40001"),
    "deadlock": server_error("40P01"),
    "read timeout": network_error(),
    "connection closed": network_error("connection is closed"),
    "refused": network_error("Can't create a connection to host 127.0.0.1 and port 1"),
    "reset": ConnectionResetError(104, "Connection reset by peer"),
    "socket timeout": TimeoutError("timed out"),
}
NOT_UNAVAILABLE = {
    "syntax error": server_error("42601"),
    "unique violation": server_error("23505"),
    "bad parameter type": InterfaceError("The parameter x can't be of type <class 'object'>."),
    "a bug": KeyError("oops"),
}
