"""Every way PostgreSQL can be unavailable is a 503 with Retry-After, on both database paths.

The fault-injection tests (tests/integration/test_faults.py) stop, crash and fill a real
server; here each failure is raised as pg8000 and SQLAlchemy raise it, including the ones
a test cannot produce on demand (an admin shutdown, a read timeout, a serialization failure).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import json_body
from tests.support.db_failures import UNAVAILABLE, wrapped


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
    monkeypatch.setattr(fastpath, "_borrow", _raiser(KeyError("a bug")))
    response = client.http.post("/api/track/view", body=json_body({"videoId": video["id"]}))
    assert response.status_code == 500 and response.json_body["error"] == "InternalError"
