"""`make dev` in a terminal: Ctrl-C stops the dev processes, not `make`, so `make dev` exits 0.

A terminal sends Ctrl-C's SIGINT to its whole foreground process group, the shell's job: `make`
and everything it started. GNU make, interrupted, waits for its recipe and then kills itself with
the same signal (the shell reports status 130), even when the recipe stopped cleanly and exited 0.
So while `make dev` runs in the foreground of a terminal, its Python process moves into a process
group of its own and makes that group the terminal's foreground group: Ctrl-C reaches only it, it
stops cleanly and exits 0, and make, whose recipe succeeded, exits 0. On the way out the terminal
goes back to make's group, the job the shell is waiting for.

Job control still works: Ctrl-Z gives the terminal back to the job, moves this process back into
it and stops the whole job, so the shell gets its prompt back and its `fg` or `bg` continue make and
this process together. Whenever the shell brings the job to the foreground again (`fg`, at once or
after a `bg`), this process takes the terminal again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STDIN = 0
FOREGROUND_POLL_SECONDS = 0.5


@contextlib.contextmanager
def own_foreground(fd: int = STDIN) -> Iterator[None]:
    """Make this process the terminal's foreground group while the block runs (nothing to do when
    ``fd`` is not our terminal or we are a background job)."""
    job = foreground_job(fd)
    if job is None or job == os.getpid():  # not ours, or a job of our own already (run by a shell itself)
        yield
        return
    terminal = _Terminal(os.dup(fd), job)  # a descriptor of its own: the caller may replace stdin
    terminal.take()
    previous = signal.signal(signal.SIGTSTP, terminal.suspend)
    try:
        yield
    finally:
        signal.signal(signal.SIGTSTP, previous)
        terminal.close()


def foreground_job(fd: int = STDIN) -> int | None:
    """Our process group if it is the foreground group of our controlling terminal ``fd``, else None."""
    try:
        group = os.getpgrp()
        return group if os.isatty(fd) and os.tcgetpgrp(fd) == group else None
    except OSError:  # a terminal, but not the controlling terminal of this session
        return None


class _Terminal:
    """The terminal's foreground, between the shell's job (make's process group) and ours."""

    def __init__(self, fd: int, job: int) -> None:
        self.fd = fd
        self.job = job
        self._lock = threading.Lock()  # the signal handler (main thread) and the watcher both move us
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None

    def take(self) -> None:
        with self._lock:
            os.setpgid(0, 0)
            self._hand_to(os.getpgrp())

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._foreground() == os.getpgrp() != self.job:
                self._hand_to(self.job)
        os.close(self.fd)

    def suspend(self, signum: int, frame: FrameType | None) -> None:
        """SIGTSTP: stop the whole job, as if we had never left it, then follow the shell's `fg` or `bg`."""
        with self._lock:
            if self._foreground() == os.getpgrp() != self.job:
                self._hand_to(self.job)
            try:
                os.setpgid(0, self.job)
            except OSError:  # make is gone: no job to stop with
                return
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        try:
            os.killpg(self.job, signal.SIGTSTP)  # make and this process stop here until continued
        finally:
            signal.signal(signal.SIGTSTP, self.suspend)
        if self._foreground() == self.job:  # `fg`
            self.take()
        elif self._watcher is None or not self._watcher.is_alive():  # `bg`: a later `fg` sends no signal
            self._watcher = threading.Thread(target=self._take_at_fg, name="foreground", daemon=True)
            self._watcher.start()

    def _take_at_fg(self) -> None:
        while not self._closed.wait(FOREGROUND_POLL_SECONDS):
            if self._foreground() == os.getpgrp() == self.job:
                self.take()
                return

    def _foreground(self) -> int | None:
        try:
            return os.tcgetpgrp(self.fd)
        except OSError:  # the terminal has gone
            return None

    def _hand_to(self, group: int) -> None:
        # A process outside the foreground group may set it only while SIGTTOU is blocked (or ignored).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
        try:
            os.tcsetpgrp(self.fd, group)
        except OSError:  # the group or the terminal has gone: nobody to hand it to
            pass
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
