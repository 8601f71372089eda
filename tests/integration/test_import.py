"""`make import` as a real process beside a real `make dev` (port 4722): killed mid-way, run again, run once more.

The source is a database in the module's Prisma shape and a media directory of real clips
(ffmpeg); `make import` gets no database or AWS settings: it takes `make dev`'s. After it the
imported videos play, the past-due schedule has run, and the API's figures equal the module's
formulas over the same rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support import legacy_module
from tests.support.database import admin_connection, scratch_database
from tests.support.dev_process import ROOT, api, dev_environment, fetch, running_dev, token, wait_until
from tests.support.media import _ffmpeg

PORT = 4722


@pytest.fixture
def module(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    media = tmp_path / "module-media"
    for video in legacy_module.VIDEOS[:3]:
        path = media / video.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        _ffmpeg(
            "-f", "lavfi", "-i", f"testsrc=size={video.width}x{video.height}:rate=25:duration=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path),
        )  # fmt: skip
    with scratch_database(database_url, prefix="media_module") as source:
        connection = admin_connection(source.url)
        legacy_module.create_schema(connection.run)
        legacy_module.fill(connection.run, now=datetime.now(UTC))
        connection.close()
        yield source.url, media


def make_import(env: dict[str, str], source_url: str, media: Path, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        ["make", "-s", "import", f"SOURCE_DATABASE_URL={source_url}", f"SOURCE_MEDIA_DIR={media}"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def states(target_url: str) -> list[str]:
    connection = admin_connection(target_url)
    try:
        return [str(row[0]) for row in connection.run("SELECT state FROM import_ids WHERE kind = 'video'")]
    except Exception:  # noqa: BLE001 - the table appears when make dev has migrated
        return []
    finally:
        connection.close()


def test_make_import_beside_make_dev_survives_a_kill_and_a_second_run(
    database_url: str, tmp_path: Path, module: tuple[str, Path]
) -> None:
    source_url, media = module
    with dev_environment(database_url, tmp_path / "data", PORT, "media_target") as env:
        shell = {name: value for name, value in env.items() if name not in ("DATABASE_URL", "PORT")}
        log = tmp_path / "import.log"
        with running_dev(env, tmp_path / "make-dev.log"):
            first = make_import(shell, source_url, media, log)
            target_url = env["DATABASE_URL"]
            wait_until(lambda: "ingested" in states(target_url) or first.poll() is not None, "a first video's media")
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
            second = make_import(shell, source_url, media, log)
            assert second.wait(timeout=600) == 0, log.read_text()[-3000:]
            third = subprocess.run(
                ["make", "-s", "import", f"SOURCE_DATABASE_URL={source_url}", f"SOURCE_MEDIA_DIR={media}"],
                cwd=ROOT, env=shell, capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            admin = token(env)
            videos = {video["id"]: video for video in api(PORT, "GET", "/api/videos?limit=100", admin)["videos"]}
            clip = (media / legacy_module.VIDEOS[0].filename).read_bytes()
            status, _, head = fetch(videos[1]["streamUrl"], {"Range": "bytes=0-99"})
            source = admin_connection(source_url)
            expected = legacy_module.module_figures(source.run)
            source.close()
            answers = {video_id: api(PORT, "GET", f"/api/videos/{video_id}/analytics", admin) for video_id in expected}
            wait_until(lambda: all(api(PORT, "GET", f"/api/videos/{n}", admin)["thumbnailUrl"] for n in (1, 2, 3)),
                       "thumbnails of the imported videos")  # fmt: skip

    assert third.returncode == 0, third.stderr
    counted = third.stdout.split("imported:")[1].split("took:")[0].split()
    assert counted and all(not word.isdigit() or word == "0" for word in counted), third.stdout  # nothing new
    assert sorted(videos) == [1, 2, 3, 4]
    assert (status, head) == (206, clip[:100])
    assert videos[3]["isPublished"] is True  # its pending publish was past due: run by the import
    for video_id, figures in expected.items():
        assert {key: answers[video_id][key] for key in figures} == figures
