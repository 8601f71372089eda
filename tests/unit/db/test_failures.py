"""What counts as PostgreSQL being unavailable (a 503) and what is a bug (a 500), as pg8000 and SQLAlchemy raise it."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from chalicelib.db.failures import is_unavailable
from tests.support.db_failures import NOT_UNAVAILABLE, UNAVAILABLE, wrapped


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
