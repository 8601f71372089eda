"""Quality of experience as a player reports it: cumulative measurements of one view so far.

Each heartbeat may carry the player's figures for its view up to now; the server keeps
the first startup time and error, and the largest of the counters, so a retried or
reordered heartbeat never counts twice. A view with an error code failed to play; a view
whose player reported but never a startup time (nor an error) exited before it started.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlayerQoe:
    """One report (every field optional: a player sends what it has measured)."""

    startup_time_ms: int | None = None
    rebuffer_count: int | None = None
    rebuffer_ms: int | None = None
    error_code: str | None = None
    bitrate_kbps: int | None = None
    height: int | None = None
