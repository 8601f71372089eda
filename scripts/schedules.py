"""``make schedules``: pending and recently failed scheduled actions (the module's ``queue:status``).

Reads the database named by ``DATABASE_URL`` and asks Scheduler (``AWS_ENDPOINT_URL``
when set) whether the schedule group is reachable. ``--json`` prints the raw report.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.services.scheduling.status import queue_status


def _line(item: dict[str, Any]) -> str:
    return (
        f"  {item['scheduledFor']}  {item['action']:<9} video {item['videoId']:<6} "
        f"{item['jobId']}  ({item['timezone']}, by user {item['scheduledByUserId']}, history {item['historyId']})"
    )


def render(report: dict[str, Any]) -> str:
    scheduler = report["scheduler"]
    lines = [
        f"Scheduler: {scheduler['status']} (group {scheduler['group']})"
        + (f" - {scheduler['error']}" if scheduler.get("error") else ""),
        f"Pending: {scheduler['pendingSchedules']}  overdue: {scheduler['overdueSchedules']}  "
        f"failed in 24h: {scheduler['failedLast24h']}",
        "",
        "Pending schedules (soonest first):",
        *([_line(item) for item in report["pending"]] or ["  none"]),
        "",
        "Failed in the last 7 days (newest first):",
    ]
    for item in report["recentlyFailed"]:
        lines.append(_line(item))
        lines.append(f"      error: {item['error']}")
    if not report["recentlyFailed"]:
        lines.append("  none")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from chalicelib.config import get_settings
    from scripts import dev_env

    dev_env.apply()  # beside a running `make dev`: its emulator endpoint and credentials
    get_settings.cache_clear()
    report = queue_status()
    print(json.dumps(report, indent=2) if "--json" in argv else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
