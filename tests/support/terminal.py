"""An interactive shell on a pseudo-terminal: what a person at a terminal window types and sees.

bash runs as the session leader with the pseudo-terminal as its controlling terminal (``setsid
--ctty``), with job control, so the commands it runs are jobs the terminal's keys reach as they
would in a terminal window: Ctrl-C is the byte ``\\x03`` typed on the master side, and the kernel's
line discipline sends SIGINT to the foreground process group. Before each prompt the shell prints
the last command's status as ``[status N]``.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

PROMPT = re.compile(rb"\[status (\d+)\]\r?\n\$ ")
DEADLINE_SECONDS = 180


# The shell starts with every signal at its default and none blocked, as a terminal emulator's does. A
# signal ignored when a shell starts stays ignored for everything it runs: a test process that inherited
# SIGINT ignored (or whose earlier tests left it so) would hand that on to `make dev`, and Ctrl-C would
# do nothing. (A small exec wrapper rather than ``preexec_fn``, which is unsafe in a threaded process.)
_CLEAN_SIGNALS = """
import os, signal, sys
for name in ("SIGINT", "SIGQUIT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGHUP"):
    signal.signal(getattr(signal, name), signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_SETMASK, set())
os.execvp(sys.argv[1], sys.argv[1:])
"""


class Shell:
    """``bash -i`` on a fresh pseudo-terminal; its output is collected as it comes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._master, slave = os.openpty()
        self._terminal_path = os.ttyname(slave)
        env = env | {"TERM": "dumb", "PS1": "$ ", "PROMPT_COMMAND": 'printf "[status %d]\\n" $?', "HISTFILE": ""}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CLEAN_SIGNALS, "setsid", "--ctty", "bash", "--norc", "--noprofile", "-i"],
            stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
        )  # fmt: skip
        os.close(slave)
        self._output = bytearray()
        self._changed = threading.Condition()
        self._hanging_up = threading.Event()
        self._reader = threading.Thread(target=self._read, name="terminal-reader", daemon=True)
        self._reader.start()
        self._prompts_seen = 0
        self.wait_for_prompt()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        while not self._hanging_up.is_set():
            if not select.select([self._master], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: every process on the terminal has closed it
                chunk = b""
            with self._changed:
                self._output.extend(chunk)
                self._changed.notify_all()
            if not chunk:
                return

    def output(self, since: int = 0) -> bytes:
        with self._changed:
            return bytes(self._output[since:])

    def mark(self) -> int:
        """A position in the output, to read what came after it."""
        with self._changed:
            return len(self._output)

    def type(self, text: str) -> None:
        os.write(self._master, text.encode())

    def run(self, command: str) -> int:
        """Type ``command`` and return its status once the next prompt shows."""
        self.type(command + "\n")
        return self.wait_for_prompt()

    def press_ctrl_c(self) -> None:
        self.type("\x03")

    def press_ctrl_z(self) -> None:
        self.type("\x1a")

    def wait_for_prompt(self) -> int:
        """The status the shell prints with its next prompt (the first one not waited for yet)."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        with self._changed:
            while True:
                prompts = PROMPT.findall(self._output)
                if len(prompts) > self._prompts_seen:
                    self._prompts_seen += 1
                    return int(prompts[self._prompts_seen - 1])
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"no prompt from the shell:\n{self._output[-3000:].decode(errors='replace')}")
                self._changed.wait(min(left, 1.0))

    def foreground_group(self) -> int:
        """The terminal's foreground process group: whoever Ctrl-C reaches."""
        return os.tcgetpgrp(self._master)

    def modes(self) -> list[object]:
        """The terminal's settings (echo, line editing, signals from keys...), as programs see them."""
        fd = os.open(self._terminal_path, os.O_RDWR | os.O_NOCTTY)
        try:
            return termios.tcgetattr(fd)
        finally:
            os.close(fd)

    def hang_up(self) -> None:
        """Close the terminal window: the kernel hangs up the terminal (SIGHUP to its session)."""
        self._hanging_up.set()
        self._reader.join()  # no read in progress: closing the last descriptor really hangs up
        os.close(self._master)
        self._master = -1

    def close(self) -> None:
        if self._master >= 0:
            self.hang_up()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def process_table() -> dict[int, tuple[str, int, int, int]]:
    """Every process: pid → (state, parent, process group, session), from ``/proc``."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        state, parent, group, session = stat[stat.rindex(")") + 2 :].split()[:4]
        table[int(entry.name)] = (state, int(parent), int(group), int(session))
    return table


def alive(pid: int) -> bool:
    """Running or stopped (not gone, not a zombie waiting to be reaped)."""
    found = process_table().get(pid)
    return found is not None and found[0] not in {"Z", "X"}


def session_members(session: int) -> set[int]:
    return {pid for pid, (state, _, _, sid) in process_table().items() if sid == session and state not in {"Z", "X"}}
