"""Delete means gone: a deleted video's media and pending schedules go with it, and it stays deleted.

Deleting a video buries it (a tombstone) in the transaction that deletes its row, under
the lock ingest takes on the same media key, so no late upload notification (the
``ObjectCreated`` of a copy made seconds before), retry or transcode result can bring it
back: ingest refuses a buried key and removes the object, a transcode result for a
missing video removes its own files. After the commit the original, the poster frame and
every rendition are deleted and the tombstone marked purged; whatever S3 refused then is
purged by the media sweep (``sweep_video_media``), which also covers a late writer.
Its publish/unpublish schedules are deleted too (the reconcile job removes any that a
failure left behind).
"""

from __future__ import annotations

from chalicelib.adapters import media_storage
from chalicelib.db.engine import session_scope
from chalicelib.domain.errors import NotFound, ServiceUnavailable
from chalicelib.observability import logger
from chalicelib.repositories import tombstones as tombstones_repo
from chalicelib.services import transcoding

# Tombstones the sweep purges per run.
PURGE_BATCH = 100
SCHEDULED_ACTIONS = ("publish", "unpublish")


def purge(video_id: int, filename: str, thumbnail_key: str | None) -> bool:
    """Remove every object of a deleted video; whether all are gone (then its tombstone says so)."""
    keys = [filename] + ([thumbnail_key] if thumbnail_key else [])
    try:
        media_storage.remove(keys)
        media_storage.remove_prefix(transcoding.video_prefix(video_id))
    except NotFound:
        pass  # no bucket, no objects
    except ServiceUnavailable:
        logger.warning("A deleted video's media is left for the sweep", extra={"video_id": video_id})
        return False
    with session_scope() as session:
        tombstones_repo.mark_purged(session, video_id)
    return True


def purge_pending(limit: int = PURGE_BATCH) -> int:
    """Purge deleted videos whose media is not known to be gone, oldest first; how many are purged now."""
    with session_scope() as session:
        pending = [(t.video_id, t.filename, t.thumbnail_key) for t in tombstones_repo.unpurged(session, limit)]
    return sum(1 for video_id, filename, thumbnail in pending if purge(video_id, filename, thumbnail))


def cancel_schedules(video_id: int) -> None:
    """Delete the video's publish/unpublish schedules, if scheduling is set up (best effort)."""
    from chalicelib.adapters import scheduler
    from chalicelib.services.scheduling.times import schedule_name

    try:
        settings = scheduler.require_config()
        for action in SCHEDULED_ACTIONS:
            scheduler.delete_schedule(schedule_name(video_id, action), settings)
    except ServiceUnavailable:
        logger.info("Schedules of a deleted video left to the reconcile job", extra={"video_id": video_id})
