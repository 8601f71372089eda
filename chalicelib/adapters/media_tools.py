"""Running the static media tools (ffprobe, ffmpeg) as subprocesses, with one failure rule:
a missing binary and a run past its time limit are the service being unavailable (503),
never a verdict on the file."""

from __future__ import annotations

import re
import subprocess

from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.observability import logger

# How ffmpeg/ffprobe say the object could not be fetched (an expired or refused URL, a
# missing object, a dead endpoint), as opposed to fetched bytes that are not a video.
_CANNOT_FETCH = re.compile(rb"(?:Server returned|HTTP error) 40[34]\b|Connection refused")


class ToolTimeout(ServiceUnavailable):
    """The tool did not finish in time: a slow read (retry) or a file too long for it (after retries)."""


def run(command: list[str], *, tool: str, setting: str, timeout: int) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` (its binary named by the ``setting`` variable) and return what it printed."""
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except (FileNotFoundError, PermissionError) as exc:
        logger.error(f"{tool} cannot be run", extra={"path": command[0]})
        raise ServiceUnavailable(f"{tool} is not available at '{command[0]}' (set {setting})") from exc
    except subprocess.TimeoutExpired as exc:
        logger.warning(f"{tool} timed out", extra={"timeout_seconds": timeout})
        raise ToolTimeout(f"{tool} did not finish within {timeout} seconds") from exc


def could_not_fetch(stderr: bytes, source: str) -> bool:
    """Whether the tool failed to fetch ``source`` rather than to decode it.

    The tool echoes the source URL in its messages, and a presigned URL's signature is
    random hex that contains "403" or "404" now and then, so the URL is taken out first and
    only the tool's own HTTP error lines count.
    """
    return _CANNOT_FETCH.search(stderr.replace(source.encode(), b"")) is not None
