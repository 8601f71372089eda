"""`make dev` in a terminal stops cleanly however a person stops it, and gives the shell its terminal back.

Each test types `make -s dev` into an interactive bash on a pseudo-terminal (see
:mod:`tests.support.terminal`; its own data directory, ports 4750-4754, no demo library) and waits
until the API answers. Then Ctrl-C (the byte a terminal sends, which the kernel turns into SIGINT
for the terminal's foreground process group), Ctrl-Z and `fg`, `make stop` from elsewhere, SIGTERM
to make itself, or the terminal window closing. Afterwards the shell's prompt shows make's status,
no ``make: ***`` line, nothing `make dev` started is left running (its port is free), and the
shell has the terminal back with the settings it had.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.support.database import scratch_database
from tests.support.dev_process import ROOT, dev_shell_environment, wait_until
from tests.support.http import request
from tests.support.terminal import Shell, alive, process_table, session_members

FAILURE = re.compile(rb"\*\*\*|Interrupt|Error|Traceback")
TERMINAL_QUERY = re.compile(rb"\x1bP\+q|\x1b\[6n|\x1b\[>q")  # answers would land at the shell's prompt
OpenTerminal = Callable[[dict[str, str]], Shell]


@dataclass
class Dev:
    """A running `make dev`: its data directory, port, make's process and the dev process under it."""

    data: Path
    port: int
    make: int
    pid: int
    modes: list[object]  # the terminal's settings before `make dev` started

    def recorded(self) -> dict[str, str]:
        return dict(json.loads((self.data / "dev-env.json").read_text())["env"])


def dev_environment(tmp_path: Path, port: int) -> dict[str, str]:
    return dev_shell_environment(tmp_path / "data", port)


@pytest.fixture
def open_terminal() -> Iterator[OpenTerminal]:
    """Opens a shell for `make dev` with an environment; whatever is left running is stopped afterwards."""
    opened: list[tuple[Shell, dict[str, str]]] = []

    def open_shell(env: dict[str, str]) -> Shell:
        opened.append((Shell(env, ROOT), env))
        return opened[-1][0]

    yield open_shell
    for shell, env in opened:
        shell.close()
        subprocess.run([sys.executable, "-m", "scripts.dev", "stop"], cwd=ROOT, env=env, timeout=120, check=False)
        _stop_servers_on(int(env["PORT"]))


def _stop_servers_on(port: int) -> None:
    """A local server this test's `make dev` left behind on its port (a failure of the test)."""
    for pid in process_table():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"scripts.local_server" in command and str(port).encode() in command:
            os.kill(pid, signal.SIGKILL)


def start_make_dev(shell: Shell, env: dict[str, str]) -> Dev:
    port = int(env["PORT"])
    modes = shell.modes()
    mark = shell.mark()
    shell.type("make -s dev\n")

    def answers() -> bool:
        if re.search(rb"\[status \d+\]", shell.output(mark)):
            raise AssertionError(f"make dev exited:\n{shell.output(mark)[-3000:].decode(errors='replace')}")
        try:
            return request(f"http://127.0.0.1:{port}", "GET", "/api/health", timeout=5).status == 200
        except OSError:
            return False

    wait_until(answers, "make dev answers")
    data = Path(env["MEDIA_API_DATA_DIR"])
    make = next(pid for pid, (_, parent, _, _) in process_table().items() if parent == shell.pid)
    return Dev(data, port, make, int(json.loads((data / "dev-env.json").read_text())["pid"]), modes)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as any server binds it
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def assert_stops_cleanly(shell: Shell, dev: Dev, stop: Callable[[], object], status: int = 0) -> None:
    """``stop()`` ends `make dev`: the shell shows ``status``, no failure, nothing left, its terminal back."""
    mark = shell.mark()
    stop()
    shown = shell.wait_for_prompt()
    said = shell.output(mark)
    assert shown == status, said.decode(errors="replace")
    assert not FAILURE.search(said), said.decode(errors="replace")
    assert not alive(dev.pid) and not alive(dev.make)
    assert session_members(shell.pid) == {shell.pid}  # nothing left on the terminal but the shell
    assert port_is_free(dev.port)  # the server (a session of its own) stopped too
    assert shell.foreground_group() == shell.pid  # the shell has its terminal back...
    assert shell.modes() == dev.modes  # ...as it was
    mark = shell.mark()
    assert shell.run("echo $((6 * 7))") == 0 and b"42" in shell.output(mark)  # and reads it


@pytest.fixture
def scratch_url(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, prefix="media_devterm") as scratch:
        yield scratch.url


def test_ctrl_c_stops_make_dev_and_make_exits_0(open_terminal: OpenTerminal, tmp_path: Path) -> None:
    """With the embedded PostgreSQL, which outlives `make dev` until `make stop`, as documented."""
    shell = open_terminal(env := dev_environment(tmp_path, 4750))
    dev = start_make_dev(shell, env)
    last_upload = _put_object(dev, "uploads/last-second.txt", b"kept")

    assert_stops_cleanly(shell, dev, shell.press_ctrl_c)
    assert (last_upload.read_bytes() if last_upload.exists() else None) == b"kept"  # the last mirror ran
    assert not TERMINAL_QUERY.search(shell.output())
    postgres = int((dev.data / "postgres" / "postmaster.pid").read_text().split()[0])
    assert alive(postgres)
    assert shell.run("make -s stop") == 0
    assert not alive(postgres)


def _put_object(dev: Dev, key: str, body: bytes) -> Path:
    """An object put into the emulator's bucket now; returns where the mirror keeps it."""
    recorded = dev.recorded()
    s3 = boto3.client(
        "s3",
        endpoint_url=recorded["AWS_ENDPOINT_URL"],
        region_name=recorded["AWS_REGION"],
        aws_access_key_id=recorded["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=recorded["AWS_SECRET_ACCESS_KEY"],
    )
    s3.put_object(Bucket=recorded["MEDIA_BUCKET"], Key=key, Body=body)
    return dev.data / "s3" / recorded["MEDIA_BUCKET"] / "objects" / key


def test_ctrl_z_fg_and_bg_work_as_for_any_job(open_terminal: OpenTerminal, tmp_path: Path, scratch_url: str) -> None:
    shell = open_terminal(env := dev_environment(tmp_path, 4751) | {"DATABASE_URL": scratch_url})
    dev = start_make_dev(shell, env)

    def job() -> tuple[str, str, int]:
        """make's state, the dev process's state and process group."""
        table = process_table()
        return table[dev.make][0], table[dev.pid][0], table[dev.pid][2]

    for then in ("fg", "bg"):
        shell.press_ctrl_z()
        assert shell.wait_for_prompt() == 128 + signal.SIGTSTP
        assert shell.foreground_group() == shell.pid
        wait_until(lambda: job() == ("T", "T", dev.make), "make and make dev stop, in the shell's job")
        if then == "bg":
            assert shell.run("bg") == 0
            wait_until(lambda: "T" not in job()[:2], "the job runs in the background")
            assert job()[2] == dev.make and shell.foreground_group() == shell.pid
        shell.type("fg\n")
        wait_until(lambda: shell.foreground_group() == dev.pid, "make dev has the terminal again")

    assert_stops_cleanly(shell, dev, shell.press_ctrl_c)


def test_make_stop_from_another_shell_ends_make_dev_with_status_0(
    open_terminal: OpenTerminal, tmp_path: Path, scratch_url: str
) -> None:
    shell = open_terminal(env := dev_environment(tmp_path, 4752) | {"DATABASE_URL": scratch_url})
    dev = start_make_dev(shell, env)

    assert_stops_cleanly(shell, dev, lambda: subprocess.run(["make", "-s", "stop"], cwd=ROOT, env=env, check=True))


def test_sigterm_to_make_stops_make_dev_cleanly(open_terminal: OpenTerminal, tmp_path: Path, scratch_url: str) -> None:
    """GNU make passes SIGTERM to its recipe, waits for it, then terminates itself with the signal: the
    shell shows status 143 whatever the recipe did. No ``make: ***`` line means `make dev` exited 0."""
    shell = open_terminal(env := dev_environment(tmp_path, 4753) | {"DATABASE_URL": scratch_url})
    dev = start_make_dev(shell, env)

    assert_stops_cleanly(shell, dev, lambda: os.kill(dev.make, signal.SIGTERM), status=128 + signal.SIGTERM)


def test_closing_the_terminal_stops_make_dev(open_terminal: OpenTerminal, tmp_path: Path, scratch_url: str) -> None:
    shell = open_terminal(env := dev_environment(tmp_path, 4754) | {"DATABASE_URL": scratch_url})
    dev = start_make_dev(shell, env)

    shell.hang_up()

    try:
        wait_until(lambda: not session_members(shell.pid), "everything on the terminal has gone")
    except AssertionError as timed_out:  # say who stayed, to find out why
        left = " ".join(sorted(str(pid) for pid in session_members(shell.pid)))
        survivors = subprocess.run(
            ["ps", "-o", "pid,stat,etime,args", "-p", left or "0"], check=False, capture_output=True, text=True
        )
        raise AssertionError(f"{timed_out}; still there:\n{survivors.stdout}") from None
    assert not alive(dev.pid)
    wait_until(lambda: port_is_free(dev.port), "the server has stopped")
