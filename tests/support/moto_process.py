"""A moto server in its own process, so a test can freeze it into a hung endpoint.

In-process moto (``mock_aws``) or a server thread cannot be made to hang; a
subprocess can: SIGSTOP freezes it, the kernel still completes TCP handshakes
into its listen backlog, and nothing ever answers, so only client timeouts end
a call. SIGCONT thaws it and it serves again (queued requests included).

Typical use::

    with MotoProcess() as moto:
        s3 = boto3.client("s3", **moto.client_kwargs())
        moto.freeze()
        ...  # calls time out
        moto.thaw()

or, in a test module, ``moto_server = moto_process_fixture()``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import pytest

from tests.support.http import free_port

__all__ = ["MotoProcess", "MotoProcessError", "moto_process_fixture"]

Scope = Literal["function", "class", "module", "package", "session"]


class MotoProcessError(RuntimeError):
    """The moto server failed to start or stop; the message ends with its log's tail."""


def _process_state(pid: int) -> str | None:
    """The state letter from /proc/PID/stat ('T' = stopped), or None if unknown/gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Format: "pid (comm) S ..."; comm may contain spaces, so split after the last ')'.
    return stat.rpartition(")")[2].split()[0]


def _wait_for_state(pid: int, stopped: bool, timeout: float = 5.0) -> None:
    """Wait until the kernel reports the signal took effect, so callers never race it."""
    if not Path("/proc").is_dir():
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _process_state(pid)
        if state is None or (state in {"T", "t"}) == stopped:
            return
        time.sleep(0.005)


def _kill(process: subprocess.Popen[bytes], log_dir: Path | None) -> None:
    """Thaw, terminate (then kill) and reap the server; runs from stop(), GC, or interpreter exit.

    SIGCONT first: SIGTERM stays pending on a stopped process, and waiting on it would hang.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if log_dir is not None:
        shutil.rmtree(log_dir, ignore_errors=True)


class MotoProcess:
    """``python -m moto.server`` on 127.0.0.1 and a free port, as a child process."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, start_timeout: float = 30.0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._port_given = port is not None
        self.start_timeout = start_timeout
        self.log_dir = Path(tempfile.mkdtemp(prefix="moto-process-", dir="/tmp"))
        self.log_path = self.log_dir / "moto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._frozen = False

    @property
    def endpoint(self) -> str:
        """The ``endpoint_url`` for boto3 clients."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def frozen(self) -> bool:
        return self._frozen

    def client_kwargs(self, region: str = "us-east-1") -> dict[str, str]:
        """Keyword arguments for ``boto3.client(service, **...)`` against this server."""
        return {
            "endpoint_url": self.endpoint,
            "region_name": region,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }

    def start(self) -> MotoProcess:
        """Spawn the server and return once it answers HTTP (about 0.5 s)."""
        if self._process is not None and self._process.poll() is None:
            return self
        for attempt in range(3):
            self._spawn()
            try:
                self._wait_until_answering()
                return self
            except MotoProcessError:
                exited = self._process is not None and self._process.poll() is not None
                self._reap()
                if exited and not self._port_given and attempt < 2 and "in use" in self.log_tail():
                    self.port = free_port(self.host)  # lost the free-port race: try another
                    continue
                raise
        raise AssertionError("unreachable")

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted, nothing is answered until thaw()."""
        process = self._require_running()
        process.send_signal(signal.SIGSTOP)
        self._frozen = True
        _wait_for_state(process.pid, stopped=True)

    def thaw(self) -> None:
        """SIGCONT: the server resumes and answers, including requests queued while frozen."""
        process = self._require_running()
        process.send_signal(signal.SIGCONT)
        self._frozen = False
        _wait_for_state(process.pid, stopped=False)

    def reset(self) -> None:
        """Drop all moto state (buckets, queues, ...) between tests sharing one server."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            connection.request("POST", "/moto-api/reset")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise MotoProcessError(f"reset answered HTTP {response.status}")
        finally:
            connection.close()

    def stop(self) -> None:
        """Thaw if frozen, terminate, reap, remove the log dir (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()
        else:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        self._frozen = False

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"(no log at {self.log_path}: {error})"

    def __enter__(self) -> MotoProcess:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MotoProcess(endpoint={self.endpoint}, pid={self.pid}, frozen={self._frozen})"

    # ------------------------------------------------------------ internals

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        with self.log_path.open("ab") as log:
            # Output goes to a file, never a pipe: a full pipe would block the server.
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(self.log_dir),
            )
        self._finalizer = weakref.finalize(self, _kill, self._process, self.log_dir)

    def _reap(self) -> None:
        """Kill a failed spawn but keep the log dir for the next attempt's message."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._process is not None:
            _kill(self._process, None)

    def _wait_until_answering(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise MotoProcessError(
                    f"moto server exited with rc={self._process.returncode}\n--- {self.log_path} ---\n{self.log_tail()}"
                )
            connection = http.client.HTTPConnection(self.host, self.port, timeout=1)
            try:
                connection.request("GET", "/moto-api/")
                connection.getresponse().read()
                return  # any HTTP answer means it serves
            except (OSError, http.client.HTTPException) as error:
                last_error = error
            finally:
                connection.close()
            time.sleep(0.05)
        raise MotoProcessError(
            f"moto server not answering after {self.start_timeout:.0f}s ({last_error!r})\n"
            f"--- {self.log_path} ---\n{self.log_tail()}"
        )

    def _require_running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise MotoProcessError("moto server is not running")
        return self._process


def moto_process_fixture(scope: Scope = "function") -> Callable[..., Iterator[MotoProcess]]:
    """Make a pytest fixture that yields a started MotoProcess and stops it afterwards.

    In a test module: ``moto_server = moto_process_fixture()``.
    """

    @pytest.fixture(scope=scope)
    def _moto_process() -> Iterator[MotoProcess]:
        with MotoProcess() as server:
            yield server

    return _moto_process
