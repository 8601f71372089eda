"""Database URLs: every form the service accepts becomes the driver's, and the rest are configuration errors."""

from __future__ import annotations

import pytest

from chalicelib.config import ConfigurationError
from chalicelib.db.engine import to_sqlalchemy_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db.example:6543/media", "postgresql+pg8000://u:p@db.example:6543/media"),
        ("postgres://u@localhost/media", "postgresql+pg8000://u@localhost/media"),
        ("postgresql://u:p@h/db?sslmode=require", "postgresql+pg8000://u:p@h/db"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql+pg8000://postgres:@/postgres?unix_sock=%2Ftmp%2Fpg%2F.s.PGSQL.5432",
        ),
        (
            "postgresql://postgres@/db?host=/run/pg&port=5433",
            "postgresql+pg8000://postgres@/db?unix_sock=%2Frun%2Fpg%2F.s.PGSQL.5433",
        ),
    ],
)
def test_database_url_forms(given: str, expected: str) -> None:
    assert to_sqlalchemy_url(given) == expected


@pytest.mark.parametrize("bad", ["", "mysql://u@h/db", "mssql://u@h/db"])
def test_bad_database_urls_are_configuration_errors(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        to_sqlalchemy_url(bad)


def test_placeholders_are_numbered_once_per_statement_as_pg8000_numbers_them() -> None:
    """The engine keeps pg8000's ``%s`` -> ``$n`` rewrite per statement text: the same text it would
    write (quotes, escapes and ``%%`` included), the arguments untouched, computed once."""
    import pg8000.dbapi
    import pg8000.legacy

    from chalicelib.db.engine import create_engine_for, numbered_placeholders

    create_engine_for("postgresql://u@localhost/media")  # installs it; connects to nothing
    statement = "SELECT %s, '%s' AS quoted, E'\\'%s', 100 %% 7, \"%s\" FROM t WHERE a = %s AND b LIKE 'x%%'"
    installed = pg8000.legacy.convert_paramstyle
    assert installed("format", statement, ("a", "b")) == pg8000.dbapi.convert_paramstyle(
        "format", statement, ("a", "b")
    )
    before = numbered_placeholders.cache_info().hits
    assert installed("format", statement, ("c", "d")) == (installed("format", statement, ())[0], ("c", "d"))
    assert numbered_placeholders.cache_info().hits == before + 2
    named = "SELECT :a, :b, :a"
    assert installed("named", named, {"a": 1, "b": 2}) == pg8000.dbapi.convert_paramstyle(
        "named", named, {"a": 1, "b": 2}
    )


_FIRST_REQUESTS = """
import importlib
import threading
from chalicelib.db import engine

barrier = threading.Barrier(2)
failures = []

def first_request(use_driver):
    barrier.wait()
    try:
        use_driver()
    except Exception as error:  # what a request thread of a threaded server would turn into a 500
        failures.append(repr(error))

threads = [threading.Thread(target=first_request, args=(use,))
           for use in (engine._remember_placeholder_numbering, lambda: importlib.import_module("pg8000.native"))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(failures[0] if failures else "ok")
"""


def test_two_first_requests_importing_the_driver_at_once_both_get_it() -> None:
    """The ORM's engine and the tracking fast path import pg8000 on a threaded server's first requests; unguarded,
    two fresh interpreters in three got a ``_DeadlockError`` or a partially initialised module."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    outcomes = [
        subprocess.run(
            [sys.executable, "-c", _FIRST_REQUESTS], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(20)
    ]
    assert outcomes == ["ok"] * 20
