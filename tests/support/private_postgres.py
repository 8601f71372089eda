"""A private, throwaway PostgreSQL server for fault-injection tests.

The shared server on 127.0.0.1:5432 serves everything on the machine and must
never be stopped, so tests that stop or crash a database start one of these
instead: its own data dir, socket dir and log under a temp dir in /tmp, a free
TCP port on 127.0.0.1, trust auth, superuser ``postgres``.

PostgreSQL refuses to run as root, and tests run as root, so every server
binary runs as the ``postgres`` OS user (``runuser -u postgres --``) when the
current user is root; otherwise it runs as the current user.

Typical use::

    with PrivatePostgres() as pg:
        conn = pg.connect()
        ...
        pg.crash()   # pg_ctl stop -m immediate
        pg.start()   # runs recovery; returns once a real query works

or, in a test module, ``private_pg = private_postgres_fixture()``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import pg8000.exceptions
import pg8000.native
import pytest

__all__ = [
    "PrivatePostgres",
    "PrivatePostgresError",
    "find_bindir",
    "free_port",
    "private_postgres_fixture",
    "process_alive",
    "sqlstate",
]

OS_USER = "postgres"
SUPERUSER = "postgres"
ADMIN_APPLICATION_NAME = "private-postgres-admin"
# SQLSTATEs a server answers while it is still coming up (57P03: starting up / in
# recovery) or going down; start() keeps polling through them.
_TRANSIENT_SQLSTATES = frozenset({"57P03", "57P01", "57P02", "08006"})
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,62}$")
_PORT_IN_USE = ("could not bind", "Address already in use")

Scope = Literal["function", "class", "module", "package", "session"]
StopMode = Literal["smart", "fast", "immediate"]


class PrivatePostgresError(RuntimeError):
    """A private server failed to init, start or stop; the message ends with the server log's tail."""


def find_bindir() -> Path:
    """Debian's PostgreSQL binaries (``pg_config --bindir``), which are known to work here.

    /usr/local/bin/pg_ctl etc. may exist too (on these machines they are symlinks
    into the same dir), but pg_config names the dir that belongs to the installed
    server, so it is preferred; PATH is only the fallback.
    """
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "pg_ctl").exists() and (bindir / "initdb").exists():
            return bindir
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).resolve().parent
    raise PrivatePostgresError("no PostgreSQL binaries: neither `pg_config --bindir` nor pg_ctl on PATH")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (a race is possible; start() retries on a bind failure)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a pg8000 DatabaseError (``error.args[0]["C"]``), else None."""
    if error.args and isinstance(error.args[0], dict):
        code = error.args[0].get("C")
        return str(code) if code is not None else None
    return None


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(command: list[str]) -> list[str]:
    """Prefix a command so it runs as the postgres OS user when we are root."""
    if _running_as_root():
        return ["runuser", "-u", OS_USER, "--", *command]
    return command


def _server_env() -> dict[str, str]:
    """A minimal environment: PG* variables from the test process must not steer pg_ctl/initdb."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(no log at {path}: {error})"
    return "\n".join(text.splitlines()[-lines:])


def _postmaster_pid(data_dir: Path) -> int | None:
    """The postmaster's pid if its pid file names a live process."""
    try:
        first_line = (data_dir / "postmaster.pid").read_text().splitlines()[0]
        pid = int(first_line.strip())
    except (OSError, IndexError, ValueError):
        return None
    return pid if process_alive(pid) else None


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process; a zombie counts as dead.

    pg_ctl daemonizes the postmaster, so it is reparented to PID 1, and this
    machine's PID 1 reaps orphans only every few seconds: right after a stop
    the postmaster lingers as a zombie that ``os.kill(pid, 0)`` still finds.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


def _cleanup(pg_ctl: Path, data_dir: Path, base_dir: Path) -> None:
    """Kill the server (if up) and remove its dir; runs from destroy(), GC, or interpreter exit."""
    if _postmaster_pid(data_dir) is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                _as_server_user([str(pg_ctl), "stop", "-D", str(data_dir), "-m", "immediate", "-w", "-t", "10"]),
                capture_output=True,
                env=_server_env(),
                cwd=str(base_dir),
                timeout=20,
                check=False,
            )
        pid = _postmaster_pid(data_dir)
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(base_dir, ignore_errors=True)


class PrivatePostgres:
    """One private PostgreSQL server that a test may stop, crash and start again.

    The data dir survives stop/crash/start (so committed data can be checked
    after recovery); only destroy() removes it. The port stays the same for
    the server's whole life, so URLs handed out earlier keep working.
    """

    def __init__(
        self,
        max_connections: int = 100,
        settings: Mapping[str, str | int] | None = None,
        start_timeout: float = 30.0,
        bindir: str | Path | None = None,
    ) -> None:
        self.max_connections = max_connections
        self.settings: dict[str, str | int] = dict(settings or {})
        self.start_timeout = start_timeout
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="private-pg-", dir="/tmp"))
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "sock"
        self.log_path = self.base_dir / "server.log"
        self.port = free_port()
        self._initialized = False
        self._finalizer = weakref.finalize(self, _cleanup, self.bindir / "pg_ctl", self.data_dir, self.base_dir)
        self.socket_dir.mkdir(mode=0o700)
        if _running_as_root():
            entry = pwd.getpwnam(OS_USER)
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.base_dir.chmod(0o700)

    # ----------------------------------------------------------------- URLs

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/postgres``."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """The TCP URL of another database on this server."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    @property
    def unix_socket(self) -> Path:
        """The socket file (pg8000: ``unix_sock=str(pg.unix_socket)``)."""
        return self.socket_dir / f".s.PGSQL.{self.port}"

    # ------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, or None when the server is down."""
        return _postmaster_pid(self.data_dir)

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> PrivatePostgres:
        """Start (initdb on first use) and return once a real query works, so recovery is over."""
        if not self._finalizer.alive:
            raise PrivatePostgresError("this server was destroyed")
        if not self._initialized:
            self._initdb()
        if self.running:
            self._wait_until_ready(time.monotonic() + self.start_timeout)
            return self
        first_start = not self.log_path.exists()
        for attempt in range(3):
            log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._write_config()
            result = self._pg_ctl("start", "-l", str(self.log_path), "-w", "-t", str(int(self.start_timeout)))
            if result.returncode == 0:
                break
            new_log = self._log_since(log_size)
            port_taken = any(marker in new_log for marker in _PORT_IN_USE)
            if first_start and port_taken and attempt < 2:
                # Lost the free-port race before anyone saw our URL: take another port.
                self.port = free_port()
                continue
            raise self._error(f"pg_ctl start failed (rc={result.returncode}): {result.stdout}{result.stderr}")
        self._wait_until_ready(time.monotonic() + self.start_timeout)
        return self

    def stop_fast(self) -> None:
        """Clean shutdown (``pg_ctl stop -m fast``): clients are disconnected, a checkpoint is written."""
        self._stop("fast")

    def crash(self) -> None:
        """Crash-like shutdown (``pg_ctl stop -m immediate``): no checkpoint, the next start runs recovery."""
        self._stop("immediate")

    def restart(self, mode: StopMode = "fast") -> PrivatePostgres:
        """Stop (if up) with ``mode``, then start; returns once queries work again."""
        if self.running:
            self._stop(mode)
        return self.start()

    def destroy(self) -> None:
        """Kill the server if it is up and remove its temp dir (idempotent)."""
        self._finalizer()

    def __enter__(self) -> PrivatePostgres:
        try:
            return self.start()
        except BaseException:
            self.destroy()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()

    # -------------------------------------------------------------- queries

    def connect(
        self, database: str = "postgres", application_name: str = ADMIN_APPLICATION_NAME, timeout: float = 5.0
    ) -> pg8000.native.Connection:
        """An autocommitted pg8000 connection over TCP; ``timeout`` bounds every socket wait."""
        return pg8000.native.Connection(
            user=SUPERUSER,
            host=self.host,
            port=self.port,
            database=database,
            application_name=application_name,
            timeout=timeout,
        )

    def query(self, sql: str, database: str = "postgres", **params: Any) -> list[list[Any]]:
        """Run one statement on a short-lived connection and return its rows."""
        conn = self.connect(database)
        try:
            return list(conn.run(sql, **params) or [])
        finally:
            conn.close()

    def create_database(self, name: str) -> str:
        """CREATE DATABASE ``name`` and return its URL."""
        if not _DB_NAME.match(name):
            raise ValueError(f"unsafe database name: {name!r}")
        self.query(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE ``name`` WITH (FORCE), disconnecting its clients first."""
        if not _DB_NAME.match(name):
            raise ValueError(f"unsafe database name: {name!r}")
        self.query(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def connection_count(self, application_name_prefix: str | None = None) -> int:
        """Client backends in pg_stat_activity, not counting the connection that asks.

        With a prefix, only those whose application_name starts with it (a plain
        prefix match, no LIKE wildcards), so a test can count its own pool.
        """
        sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        params: dict[str, Any] = {}
        if application_name_prefix is not None:
            sql += " AND left(application_name, length(CAST(:prefix AS text))) = CAST(:prefix AS text)"
            params["prefix"] = application_name_prefix
        rows = self.query(sql, **params)
        return int(rows[0][0])

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log (also appended to every PrivatePostgresError)."""
        return _tail(self.log_path, lines)

    # ------------------------------------------------------------ internals

    def _initdb(self) -> None:
        command = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            # Skips only initdb's own fsync of the fresh cluster (about 0.5 s); the
            # server itself still runs with fsync=on.
            "--no-sync",
        ]
        result = self._run(command, timeout=60)
        if result.returncode != 0:
            raise PrivatePostgresError(f"initdb failed (rc={result.returncode}):\n{result.stdout}{result.stderr}")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude 'private.conf'\n")
        self._initialized = True

    def _write_config(self) -> None:
        """Rewrite private.conf (included last by postgresql.conf) with the current port and settings."""
        values: dict[str, str | int] = {
            "port": self.port,
            "listen_addresses": self.host,
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": self.max_connections,
            "fsync": "on",
            "log_line_prefix": "%m [%p] %q%a ",
        }
        values.update(self.settings)
        lines = []
        for name, value in values.items():
            rendered = str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
            lines.append(f"{name} = {rendered}\n")
        path = self.data_dir / "private.conf"
        path.write_text("".join(lines))
        if _running_as_root():
            entry = pwd.getpwnam(OS_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _stop(self, mode: StopMode) -> None:
        if not self.running:
            raise self._error(f"stop -m {mode}: the server is not running")
        result = self._pg_ctl("stop", "-m", mode, "-w", "-t", "30")
        if result.returncode != 0:
            raise self._error(f"pg_ctl stop -m {mode} failed (rc={result.returncode}): {result.stdout}{result.stderr}")

    def _wait_until_ready(self, deadline: float) -> None:
        """Poll with a real query: after a crash the server answers 57P03 until recovery ends."""
        last_error: BaseException | None = None
        down_since: float | None = None
        while time.monotonic() < deadline:
            try:
                conn = self.connect(timeout=2.0)
                try:
                    conn.run("SELECT 1")
                    return
                finally:
                    conn.close()
            except pg8000.exceptions.DatabaseError as error:
                if sqlstate(error) not in _TRANSIENT_SQLSTATES:
                    raise self._error(f"server up but the first query failed: {error!r}") from error
                last_error = error
            except (pg8000.exceptions.InterfaceError, OSError) as error:
                last_error = error
            # No live postmaster for a whole second: it died (a fresh one may not have written its pid file yet).
            if self.running:
                down_since = None
            elif down_since is None:
                down_since = time.monotonic()
            elif time.monotonic() - down_since > 1.0:
                raise self._error(f"the server exited while starting (last error: {last_error!r})")
            time.sleep(0.05)
        raise self._error(f"not ready after {self.start_timeout:.0f}s (last error: {last_error!r})")

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run(
            [str(self.bindir / "pg_ctl"), *args, "-D", str(self.data_dir)], timeout=self.start_timeout + 30
        )

    def _run(self, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        # cwd: the postgres user may not be allowed into the caller's cwd.
        return subprocess.run(
            _as_server_user(command),
            capture_output=True,
            text=True,
            env=_server_env(),
            cwd=str(self.base_dir),
            timeout=timeout,
            check=False,
        )

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open(errors="replace") as log:
                log.seek(offset)
                return log.read()
        except OSError:
            return ""

    def _error(self, message: str) -> PrivatePostgresError:
        return PrivatePostgresError(f"{message}\n--- {self.log_path} (tail) ---\n{self.log_tail()}")

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"PrivatePostgres(port={self.port}, dir={self.base_dir}, {state})"


def private_postgres_fixture(
    scope: Scope = "function",
    max_connections: int = 100,
    settings: Mapping[str, str | int] | None = None,
) -> Callable[..., Iterator[PrivatePostgres]]:
    """Make a pytest fixture that yields a started PrivatePostgres and destroys it afterwards.

    In a test module: ``private_pg = private_postgres_fixture()``; then a test
    takes ``private_pg`` as an argument.
    """

    @pytest.fixture(scope=scope)
    def _private_postgres() -> Iterator[PrivatePostgres]:
        with PrivatePostgres(max_connections=max_connections, settings=settings) as server:
            yield server

    return _private_postgres
