"""The embedded S3 emulator's objects kept under ``.data/s3/`` across `make dev` restarts.

moto keeps its buckets in memory. `make dev` restores the saved objects into the bucket
before the bucket's notifications are wired (so nothing is ingested twice), then a
thread mirrors the bucket every couple of seconds: new or changed objects (by ETag) are
written to disk, removed ones deleted; a last mirror runs when `make dev` stops. A hard
kill loses at most the last couple of seconds of uploads.

Layout: ``.data/s3/<bucket>/objects/<key>`` and ``.data/s3/<bucket>/index.json`` (key →
ETag and content type). Files are written to a temporary name and renamed, so a kill
mid-write never leaves half an object behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

MIRROR_INTERVAL_SECONDS = 2.0


class MediaMirror:
    """One bucket's objects on disk."""

    def __init__(self, s3: Any, bucket: str, root: Path) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.directory = root / bucket
        self.objects = self.directory / "objects"
        self.index_file = self.directory / "index.json"
        self.index: dict[str, dict[str, str]] = self._read_index()
        self._lock = threading.Lock()

    def _read_index(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.index_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _path(self, key: str) -> Path:
        path = (self.objects / key).resolve()
        if not path.is_relative_to(self.objects.resolve()):
            raise ValueError(f"object key {key!r} leaves the mirror directory")
        return path

    def restore(self) -> int:
        """Put every saved object back into the (new, empty) bucket; returns how many."""
        restored = 0
        for key, meta in sorted(self.index.items()):
            path = self._path(key)
            if not path.is_file():
                continue
            with path.open("rb") as body:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=meta.get("contentType", ""))
            restored += 1
        self.sync()  # the ETags the emulator gave the restored objects
        return restored

    def sync(self) -> tuple[int, int]:
        """Write new or changed objects, delete removed ones; returns ``(written, deleted)``."""
        with self._lock:
            listed = self._listing()
            written = 0
            for key, etag in listed.items():
                if self.index.get(key, {}).get("etag") != etag:
                    self._save(key, etag)
                    written += 1
            gone = [key for key in self.index if key not in listed]
            for key in gone:
                with contextlib.suppress(OSError, ValueError):
                    self._path(key).unlink()
                del self.index[key]
            if written or gone:
                self._write_index()
            return written, len(gone)

    def _listing(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                found[str(item["Key"])] = str(item["ETag"])
        return found

    def _save(self, key: str, etag: str) -> None:
        reply = self.s3.get_object(Bucket=self.bucket, Key=key)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            for chunk in reply["Body"].iter_chunks(1 << 20):
                out.write(chunk)
        os.replace(partial, path)
        self.index[key] = {"etag": etag, "contentType": str(reply.get("ContentType") or "")}

    def _write_index(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.index_file.with_suffix(".partial")
        partial.write_text(json.dumps(self.index, indent=1, sort_keys=True))
        os.replace(partial, self.index_file)

    def run(self, stop: threading.Event, interval: float = MIRROR_INTERVAL_SECONDS) -> None:
        """Mirror until ``stop`` is set, then once more; an emulator hiccup is retried next time."""
        from chalicelib.observability import logger

        while True:
            stopping = stop.wait(interval)
            try:
                self.sync()
            except Exception:  # noqa: BLE001 - a dev helper keeps mirroring through emulator hiccups
                logger.exception("Mirroring the media bucket failed")
            if stopping:
                return
