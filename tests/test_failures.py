"""Every way PostgreSQL can be unavailable is a 503 with Retry-After, on both database paths.

The fault-injection tests (tests/integration/test_faults.py) stop, crash and fill a real
server; here each failure is raised as pg8000 and SQLAlchemy raise it, including the ones
a test cannot produce on demand (an admin shutdown, a read timeout, a serialization failure).
"""

from __future__ import annotations

from typing import Any

import pytest
from pg8000.exceptions import DatabaseError, InterfaceError
from sqlalchemy import exc as sa_exc

from chalicelib.db.failures import is_unavailable
from tests.conftest import json_body


def server_error(code: str, message: str = "server says no") -> DatabaseError:
    return DatabaseError({"S": "FATAL", "C": code, "M": message})


def network_error(message: str = "network error") -> InterfaceError:
    try:
        raise InterfaceError(message) from TimeoutError("timed out")
    except InterfaceError as error:
        return error


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


def wrapped(error: BaseException) -> sa_exc.DBAPIError:
    """The error as SQLAlchemy re-raises it around a pg8000 DB-API error."""
    return sa_exc.DBAPIError.instance("SELECT 1", {}, error, DatabaseError)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(UNAVAILABLE))
def test_every_outage_is_recognised_bare_and_wrapped(name: str) -> None:
    error = UNAVAILABLE[name]
    assert is_unavailable(error)
    assert is_unavailable(wrapped(error))


@pytest.mark.parametrize("name", sorted(NOT_UNAVAILABLE))
def test_bugs_are_not_mistaken_for_outages(name: str) -> None:
    assert not is_unavailable(NOT_UNAVAILABLE[name])
    assert not is_unavailable(wrapped(NOT_UNAVAILABLE[name]))


def test_pool_exhaustion_is_an_outage() -> None:
    assert is_unavailable(sa_exc.TimeoutError("QueuePool limit reached"))


@pytest.mark.parametrize("name", sorted(UNAVAILABLE))
def test_the_sqlalchemy_path_answers_503_with_retry_after(
    client: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from chalicelib.services import videos

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise wrapped(UNAVAILABLE[name])

    monkeypatch.setattr(videos, "list_videos", fail)
    response = client.http.get("/api/videos", headers=admin_headers)
    assert response.status_code == 503
    assert response.json_body == {
        "error": "ServiceUnavailable",
        "message": "Database is unavailable, try again shortly",
    }
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("name", sorted(UNAVAILABLE))
def test_the_tracking_fast_path_answers_503_and_drops_the_connection(client: Any, create_video: Any, name: str) -> None:
    from chalicelib.db import fastpath

    video = create_video(published=True)
    assert client.http.post("/api/track/view", body=json_body({"videoId": video["id"]})).status_code == 200
    pool = fastpath.pool()
    [connection] = pool._idle
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection.native, "prepare", _raiser(UNAVAILABLE[name]))
        connection.statements.clear()
        response = client.http.post("/api/track/view", body=json_body({"videoId": video["id"]}))
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert connection not in pool._idle  # a broken connection is never handed out again
    assert client.http.post("/api/track/view", body=json_body({"videoId": video["id"]})).status_code == 200
    fastpath.dispose()


def _raiser(error: BaseException) -> Any:
    def raise_it(*args: Any, **kwargs: Any) -> Any:
        raise error

    return raise_it


def test_a_bug_on_the_fast_path_is_still_a_500_not_a_503(
    client: Any, create_video: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.db import fastpath

    video = create_video(published=True)
    monkeypatch.setattr(fastpath, "_borrowed", _raiser(KeyError("a bug")))
    response = client.http.post("/api/track/view", body=json_body({"videoId": video["id"]}))
    assert response.status_code == 500 and response.json_body["error"] == "InternalError"
