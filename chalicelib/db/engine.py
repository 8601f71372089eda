"""One SQLAlchemy engine per Lambda container, reused across invocations.

``DATABASE_URL`` is accepted in the ordinary libpq forms and always driven by
pg8000 (pure Python, so the deployment package needs no compiled driver):

* ``postgresql://user:pass@host:5432/db``
* ``postgresql://user@/db?host=/var/run/postgresql`` (unix socket directory)
* ``postgresql+pg8000://...`` (passed through)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The driver is imported with this module, at start-up, by one thread: imported lazily by a threaded
# server's first requests at once (``chalice local``, ``make dev``), its modules deadlocked in the import
# system, which raised ``_DeadlockError`` or a partially initialised module in one of them (a 500).
import pg8000.native  # noqa: F401 - imported for its import, at start-up (above)

from chalicelib.config import ConfigurationError, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

_engine: Engine | None = None
_reader: Engine | None = None


def to_sqlalchemy_url(database_url: str) -> str:
    """Rewrite a libpq-style URL into the pg8000 form SQLAlchemy understands."""
    if not database_url:
        raise ConfigurationError("DATABASE_URL is not set")
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "postgresql+pg8000"}:
        raise ConfigurationError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    query = dict(parse_qsl(parts.query))
    socket_dir = query.pop("host", None)
    if socket_dir and socket_dir.startswith("/"):
        port = query.pop("port", None) or str(parts.port or 5432)
        query["unix_sock"] = f"{socket_dir.rstrip('/')}/.s.PGSQL.{port}"
    query.pop("sslmode", None)  # libpq-only; TLS for pg8000 is configured through connect args
    return urlunsplit(("postgresql+pg8000", parts.netloc, parts.path, urlencode(query), ""))


def pg8000_connect_kwargs(database_url: str) -> dict[str, Any]:
    """Keyword arguments for ``pg8000.native.Connection`` from any accepted URL form.

    For the code that talks to pg8000 without SQLAlchemy's pool: the tracking fast
    path, the benchmark and the test fixtures that create databases.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(to_sqlalchemy_url(database_url))
    return {
        "user": parsed.username or "postgres",
        "password": parsed.password or None,
        "host": parsed.host or "localhost",
        "port": parsed.port or 5432,
        "database": parsed.database or "postgres",
        "unix_sock": parsed.query.get("unix_sock"),
        "startup_params": startup_params(),
    }


def startup_params() -> dict[str, str]:
    """Session settings sent when a connection opens: ``DATABASE_SCHEMA``'s search path, at no extra round trip.

    Every statement names tables unqualified, so the search path alone puts the service in
    its own schema (beside another application's tables of the same names in ``public``).
    """
    path = get_settings().search_path
    return {"search_path": path} if path else {}


def database_url() -> str:
    """The configured URL, or the one held in the secret named by ``DATABASE_SECRET_NAME``."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_name:
        from chalicelib.adapters.secrets import database_url_from_secret

        return database_url_from_secret(settings.database_secret_name)
    raise ConfigurationError("DATABASE_URL (or DATABASE_SECRET_NAME) is not set")


def reader_url() -> str | None:
    """Where analytics reads go: ``DATABASE_READER_URL``, else the writer URL with ``DATABASE_READER_HOST``."""
    settings = get_settings()
    if settings.database_reader_url:
        return settings.database_reader_url
    if settings.database_reader_host:
        parts = urlsplit(database_url())
        credentials, _, address = parts.netloc.rpartition("@")
        port = address.rpartition(":")[2] if ":" in address else ""
        host = settings.database_reader_host + (f":{port}" if port else "")
        return urlunsplit(parts._replace(netloc=f"{credentials}@{host}" if credentials else host))
    return None


def create_engine_for(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    _remember_placeholder_numbering()
    settings = get_settings()
    engine = create_engine(
        to_sqlalchemy_url(url),
        # A Lambda container serves one request at a time; a small pool is plenty and keeps
        # RDS Proxy / max_connections pressure low, and a threaded dev server can never hold
        # more than pool_size + max_overflow. The ping on checkout and the recycle make a
        # pooled connection survive a database restart or an idle-timeout cut by a proxy.
        pool_size=2,
        max_overflow=4,
        pool_recycle=300,
        pool_timeout=settings.database_pool_wait_seconds,
        connect_args={
            "timeout": settings.database_timeout_seconds,
            "application_name": "media-api",
            "startup_params": startup_params(),
        },
    )
    event.listen(engine.pool, "checkout", _ping_on_checkout)
    event.listen(engine.pool, "connect", _read_times_in_c)
    return engine


def _read_times_in_c(dbapi_connection: Any, connection_record: Any) -> None:
    """Dates and timestamps read with ``fromisoformat`` (C) instead of pg8000's ``strptime`` (Python, two
    hundred times slower): a report of 120 days with team views reads hundreds of dates. Values
    ``fromisoformat`` does not take (infinity, BC dates) still get pg8000's own answer."""
    from pg8000 import converters

    for oid, fast, own in (
        (converters.DATE, date.fromisoformat, converters.date_in),
        (converters.TIMESTAMP, datetime.fromisoformat, converters.timestamp_in),
        (converters.TIMESTAMPTZ, datetime.fromisoformat, converters.timestamptz_in),
    ):
        dbapi_connection.register_in_adapter(oid, _or_else(fast, own))


def _or_else(fast: Callable[[str], Any], own: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        try:
            return fast(text)
        except ValueError:
            return own(text)

    return read


def _remember_placeholder_numbering() -> None:
    """Number a statement's ``%s`` placeholders once per statement text, not on every execution.

    pg8000's DB-API cursor rewrites ``%s`` into ``$1, $2, ...`` by scanning the text character by
    character in Python each time a statement runs, a long scan for a report's statement that sums
    fifty measures, repeated for each of a dozen statements. The rewrite depends only on the text
    (in the ``format`` style SQLAlchemy uses, the arguments pass through unchanged), so it is kept per
    text; other styles go to pg8000 as before.
    """
    import pg8000.legacy

    pg8000.legacy.convert_paramstyle = _numbered_once


def _numbered_once(style: str, query: str, args: Any) -> tuple[str, Any]:
    if style != "format":
        from pg8000.dbapi import convert_paramstyle

        return convert_paramstyle(style, query, args)
    return numbered_placeholders(query), args


@lru_cache(maxsize=2048)
def numbered_placeholders(query: str) -> str:
    """``query`` with pg8000's ``$n`` placeholders for its ``%s`` (quotes, escapes and ``%%`` respected)."""
    from pg8000.dbapi import convert_paramstyle

    return str(convert_paramstyle("format", query, ())[0])


def _ping_on_checkout(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Pessimistic disconnect handling: ping every connection the pool hands out.

    ``pool_pre_ping`` is not enough with pg8000: a connection the server reset
    (restart, failover, proxy idle cut) fails its ping with a bare
    ``ConnectionResetError``, which SQLAlchemy does not read as a disconnect and
    re-raises. Any failure here raises ``DisconnectionError`` instead, so the pool
    discards the connection and checks out a fresh one.
    """
    from sqlalchemy import exc

    # Pinged outside a transaction: a ping that opened one would make the caller's first
    # statement run inside it, too late for SET TRANSACTION (see ``snapshot``), and cost a BEGIN.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as error:
        raise exc.DisconnectionError(f"stale pooled connection: {error}") from error
    finally:
        _close_quietly(cursor)
        dbapi_connection.autocommit = autocommit


def _close_quietly(cursor: Any) -> None:
    try:
        cursor.close()
    except Exception:  # noqa: BLE001 - the cursor of a dead connection may not close; it is discarded anyway
        return


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = create_engine_for(database_url())
    return _engine


def get_reader_engine() -> Engine:
    """The engine of the analytics reads: the reader's when one is configured, else the writer's."""
    global _reader
    url = reader_url()
    if url is None:
        return get_engine()
    if _reader is None:
        _reader = create_engine_for(url)
    return _reader


def dispose_engine() -> None:
    """Forget the container's engines (tests, or after the configuration changed)."""
    global _engine, _reader
    for engine in (_engine, _reader):
        if engine is not None:
            engine.dispose()
    _engine = _reader = None


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    from sqlalchemy.orm import Session

    with Session(get_engine(), expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def transaction() -> Iterator[Connection]:
    """One unit of work on a Core connection (SQL statements): commit on success, roll back on any error."""
    with get_engine().begin() as connection:
        yield connection


@contextmanager
def snapshot() -> Iterator[Connection]:
    """A REPEATABLE READ transaction on the reader (``DATABASE_READER_*``, else the writer): every statement
    in it sees the same committed state, a replica's included.

    Reports read roll-ups and then the raw rows after the fold watermark; under READ
    COMMITTED a refresh committing between those statements would make them count rows
    twice or not at all. The isolation level is set in the transaction itself, so the
    pooled connection needs no reset afterwards.

    JIT compilation and parallel workers are off for the transaction (``set_config(..., true)``
    is ``SET LOCAL``: nothing outlives it, so RDS Proxy can still multiplex the connection).
    Report queries read a few rows per day, but the planner guesses 1,000 rows for every
    ``generate_series`` call and for small per-span subqueries, which lifts their estimated
    cost past ``jit_above_cost`` and ``parallel_setup_cost``: compiling and starting workers
    then cost many times what the statements themselves take (figures in
    ``docs/benchmark.md``). The refresh, whose folds do read millions of rows, keeps the
    server's settings.
    """
    from sqlalchemy import text

    with get_reader_engine().begin() as connection:
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        connection.execute(
            text("SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)")
        )
        yield connection
