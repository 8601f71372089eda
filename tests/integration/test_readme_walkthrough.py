"""The README's walkthrough, run verbatim against a real `make dev`: upload, ready, publish, play,
track, analytics, exactly as a newcomer types it in a second shell (its own port, data directory and
database here, so it runs beside the other `make dev` tests)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dev_process import ROOT, dev_environment, running_dev

PORT = 4740
START, END = "<!-- walkthrough:start -->", "<!-- walkthrough:end -->"


def walkthrough() -> str:
    """The shell lines between the README's walkthrough markers, without the code fence."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(START) + len(START) : readme.index(END)].strip()
    assert block.startswith("```bash\n") and block.endswith("\n```"), "the walkthrough is one bash block"
    return block.removeprefix("```bash\n").removesuffix("\n```")


@pytest.fixture
def dev_env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    with dev_environment(database_url, tmp_path / "data", PORT, "media_walkthrough") as env:
        yield env


def test_the_readme_walkthrough_runs_verbatim_and_counts_the_view(dev_env: dict[str, str], tmp_path: Path) -> None:
    lines = walkthrough()
    assert len(lines.splitlines()) <= 15
    with running_dev(dev_env, tmp_path / "make-dev.log"):
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", lines],
            cwd=ROOT,
            env=dev_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    printed = run.stdout.strip().splitlines()
    published = json.loads(printed[0])
    assert (published["isPublished"], published["processingStatus"]) == (True, "ready")
    assert printed[1].startswith("#EXT-X-STREAM-INF:") and "RESOLUTION=" in printed[1]
    assert printed[2] == f"embed: http://127.0.0.1:{PORT}/api/embed/{published['id']}"
    assert printed[3:5] == ['{"success":true}', '{"success":true}']
    report = json.loads(printed[5])
    assert report == {"totalViews": 1, "uniqueViewers": 1, "totalWatchTimeSeconds": 8, "completionRate": 100}
