"""Importing the module's library and history: the steps, in the order their rows refer to each other.

1. users the imported rows refer to, copied from the source's ``users`` where this database has none
   with that id (in a shared database they are the same rows, and nothing is copied);
2. videos, keeping each id where it is free (else a new id, remembered in ``import_ids``), with their
   descriptive fields and publish state, under this service's key scheme ``videos/<uuid>/<name>``;
3. raw views, then events, by ``COPY``: a chunk of source ids per transaction, committed with its
   checkpoint; ids are shifted by an offset reserved on this database's sequences (0 into an empty one),
   video ids mapped, referrers cut to today's rule, legacy SHA-256 IP hashes marked ``ip_legacy``.
   Months the table has no partition for yet are filled in a staging table and attached whole once
   copied (:func:`chalicelib.repositories.partitions.stage`): their indexes are built by one sort each;
4. schedule history; each pending publish or unpublish re-created as this service's pending row and
   Scheduler schedule, or executed now when its time has passed (as the reconcile job would);
5. media: each video's file from the media directory uploaded to the bucket, then probed, thumbnailed
   and processed by the ingest service like any upload;
6. the fold: raw rows imported before the analytics watermark are folded (the watermark is moved back
   to the oldest of them), so reports read roll-ups, never millions of raw rows.

Every step is idempotent (ids already mapped, source ids at or below the checkpoint are skipped), so a
second run changes nothing and a killed run carries on where it stopped. A dry run reads the source and
this database and says what a run would do, writing nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from chalicelib.adapters.legacy_module import IdRange, LegacySchedule, LegacySource, LegacyVideo, SourceError
from chalicelib.config import get_settings
from chalicelib.db.engine import transaction
from chalicelib.domain.errors import DomainError, Unprocessable
from chalicelib.repositories import imports, partitions
from chalicelib.services.privacy import stored_referrer

VIEW_COLUMNS = (
    "id",
    "video_id",
    "user_id",
    "ip_address",
    "ip_legacy",
    "watch_time_seconds",
    "completed",
    "created_at",
    "referer",
)
EVENT_COLUMNS = ("id", "video_id", "view_id", "event_type", "timestamp", "created_at")
VIEWS_PER_CHUNK = 100_000
EVENTS_PER_CHUNK = 250_000
VIDEOS_PER_TRANSACTION = 200
# Chunks written at once: two keep both cores of a small server busy (figures in docs/benchmark.md).
COPY_WRITERS = 2
COPIED = "copied"  # a copy step's checkpoint detail: the chunks committed beyond its position
# import_ids kinds and states
VIDEO, SCHEDULE = "video", "schedule"
MEDIA_WAITING, MEDIA_MISSING, MEDIA_INGESTED, MEDIA_REJECTED = "media", "no-media", "ingested", "rejected"
KNOWN_STATUSES = ("completed", "failed", "cancelled", "skipped")


class ImportFailed(RuntimeError):
    """The import cannot go on (a conflict in this database, the source unreadable); nothing half-done stays."""


class Progress(Protocol):
    """A progress display: one bar per long step, with its rate."""

    def begin(self, step: str, total: int, unit: str) -> None: ...

    def advance(self, amount: int) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    def begin(self, step: str, total: int, unit: str) -> None:
        return None

    def advance(self, amount: int) -> None:
        return None

    def end(self) -> None:
        return None


@dataclass(frozen=True)
class Options:
    source_url: str
    source_schema: str = "public"
    media_dir: Path | None = None
    dry_run: bool = False
    views_per_chunk: int = VIEWS_PER_CHUNK
    events_per_chunk: int = EVENTS_PER_CHUNK


@dataclass
class Summary:
    """What a run did (or, dry, would do), step by step, in the order it happened."""

    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        lines = [f"{verb}:"] + [f"  {name:<40} {value:>12,}" for name, value in self.counts.items()]
        lines.append("took: " + ", ".join(f"{name} {value:.1f} s" for name, value in self.seconds.items()))
        return lines + [f"note: {note}" for note in self.notes]


def run_import(options: Options, progress: Progress | None = None) -> Summary:
    """Import everything the source holds that this database does not have yet."""
    source = LegacySource(options.source_url, options.source_schema)
    try:
        return _Importer(source, options, progress or NoProgress()).run()
    finally:
        source.close()


class _Importer:
    def __init__(self, source: LegacySource, options: Options, progress: Progress) -> None:
        self.source = source
        self.options = options
        self.progress = progress
        self.summary = Summary(dry_run=options.dry_run)
        self.key = source.key
        self.videos = source.videos()

    def run(self) -> Summary:
        self.check_aws()
        for name, step in (
            ("users", self.import_users),
            ("videos", self.import_videos),
            ("views", self.import_views),
            ("events", self.import_events),
            ("schedules", self.import_schedules),
            ("media", self.import_media),
            ("fold", self.fold),
        ):
            started = datetime.now(UTC)
            step()
            self.summary.seconds[name] = (datetime.now(UTC) - started).total_seconds()
        return self.summary

    def check_aws(self) -> None:
        """Refuse before writing anything when a step will need AWS settings that are missing."""
        if self.options.dry_run:
            return
        if _pending(self.videos, self.source.schedules()):
            from chalicelib.adapters.scheduler import require_config

            require_config()  # 503 ServiceUnavailable naming the missing settings

    # 1. users -----------------------------------------------------------------------------------
    def import_users(self) -> None:
        wanted = self.source.referenced_users()
        with transaction() as connection:
            missing = sorted(wanted - imports.existing_users(connection, wanted))
        if not missing:
            return
        rows = self.source.users(missing)
        unknown = sorted(set(missing) - {int(row["id"]) for row in rows})
        if unknown:
            raise ImportFailed(f"users {unknown[:10]} are referred to but are in neither database's users table")
        self.summary.add("users copied", len(rows))
        if self.options.dry_run:
            return
        from sqlalchemy.exc import IntegrityError

        try:
            with transaction() as connection:
                imports.insert_users(connection, rows)
        except IntegrityError as exc:
            raise ImportFailed(f"a user to copy clashes with one already here (same email?): {exc.orig}") from exc

    # 2. videos ----------------------------------------------------------------------------------
    def import_videos(self) -> None:
        from chalicelib.adapters import media_storage

        with transaction() as connection:
            mapped = imports.mapped_ids(connection, self.key, VIDEO)
        todo = [video for video in self.videos if video.id not in mapped]
        if todo and not self.options.dry_run:
            with transaction() as connection:
                imports.move_video_sequence(connection, at_least=max(video.id for video in self.videos))
        for batch in (
            todo[start : start + VIDEOS_PER_TRANSACTION] for start in range(0, len(todo), VIDEOS_PER_TRANSACTION)
        ):
            media = {video.id: self.media_file(video) is not None for video in batch}
            self.summary.add("videos", len(batch))
            self.summary.add("videos with media", sum(media.values()))
            self.summary.add("videos without media file", len(batch) - sum(media.values()))
            if self.options.dry_run:
                continue
            with transaction() as connection:
                for video in batch:
                    new_id = imports.free_video_id(connection, video.id)
                    key = media_storage.new_object_key(_name(video))
                    imports.insert_video(connection, _video_row(video, new_id, key))
                    state = MEDIA_WAITING if media[video.id] else MEDIA_MISSING
                    imports.map_id(connection, self.key, VIDEO, video.id, new_id, state)
                    self.summary.add("videos given a new id", int(new_id != video.id))
        if todo and not self.options.dry_run:
            with transaction() as connection:
                imports.move_video_sequence(connection)

    def media_file(self, video: LegacyVideo) -> Path | None:
        """The video's file in the media directory (never outside it), if there is one."""
        if self.options.media_dir is None:
            return None
        root = self.options.media_dir.resolve()
        path = (root / video.filename).resolve()
        return path if path.is_file() and path.is_relative_to(root) else None

    def video_ids(self) -> dict[int, int]:
        with transaction() as connection:
            return {legacy: new for legacy, (new, _) in imports.mapped_ids(connection, self.key, VIDEO).items()}

    # 3. views and events --------------------------------------------------------------------------
    def import_views(self) -> None:
        ids = self.video_ids()

        video = _mapped('v."videoId"', ids)

        def select(low: int, high: int, blocks: list[list[int]]) -> str:
            return f"""SELECT {_shifted("v.id", blocks)}, {video}, v."userId", v."ipAddress",
                              v."ipAddress" IS NOT NULL, v."watchTimeSeconds", v.completed,
                              v."createdAt" AT TIME ZONE 'UTC', v.referer
                       FROM {self.source.table("video_views")} v WHERE v.id > {low} AND v.id <= {high} ORDER BY v.id"""

        self.copy_step("views", "video_views", VIEW_COLUMNS, self.options.views_per_chunk, select, _clean_referrers)

    def import_events(self) -> None:
        ids = self.video_ids()
        with transaction() as connection:
            view_blocks = imports.checkpoint(connection, self.key, "views").detail.get("blocks", [])

        video, view = _mapped('e."videoId"', ids), _shifted('e."viewId"', view_blocks)

        def select(low: int, high: int, blocks: list[list[int]]) -> str:
            return f"""SELECT {_shifted("e.id", blocks)}, {video}, {view}, e."eventType", e.timestamp,
                              e."createdAt" AT TIME ZONE 'UTC'
                       FROM {self.source.table("video_events")} e WHERE e.id > {low} AND e.id <= {high} ORDER BY e.id"""

        self.copy_step("events", "video_events", EVENT_COLUMNS, self.options.events_per_chunk, select, None)

    def copy_step(
        self,
        step: str,
        table: str,
        columns: tuple[str, ...],
        chunk: int,
        select: Callable[[int, int, list[list[int]]], str],
        rewrite: Callable[[bytes], bytes] | None,
    ) -> None:
        """Copy the source rows after the step's checkpoint, a chunk of ids per transaction.

        ``COPY_WRITERS`` chunks are written at once, each in its own transaction with the note that
        it is copied: the source's reads take turns on its snapshot while the writes share this
        server's cores. A chunk is copied once, whatever order they commit in and wherever a run
        stopped (:func:`_chunks_to_copy`).
        """
        with transaction() as connection:
            point = imports.checkpoint(connection, self.key, step)
        pending = self.source.id_range(table, point.position)
        if self.options.dry_run or not pending.count:
            self.summary.add(step, pending.count)
        if self.options.dry_run:
            return
        if pending.count:
            self.copy_chunks(step, table, columns, chunk, point, pending, select, rewrite)
        self.attach_staged(step, table)

    def copy_chunks(
        self,
        step: str,
        table: str,
        columns: tuple[str, ...],
        chunk: int,
        point: imports.Checkpoint,
        pending: IdRange,
        select: Callable[[int, int, list[list[int]]], str],
        rewrite: Callable[[bytes], bytes] | None,
    ) -> None:
        target = self.prepare_copy(step, table, point, pending)
        self.progress.begin(step, pending.count, step)
        blocks = point.detail["blocks"]

        def copy(low: int, high: int) -> int:
            data = self.source.copy_out(select(low, high, blocks))
            if rewrite is not None:
                data = rewrite(data)
            with transaction() as connection:
                imports.copy_rows(connection, target, columns, data)
                _mark_copied(connection, self.key, step, low, high)
            return data.count(b"\n")

        chunks = _chunks_to_copy(point.position, pending.last, chunk, point.detail.get(COPIED, []))
        with ThreadPoolExecutor(max_workers=COPY_WRITERS, thread_name_prefix=f"import-{step}") as writers:
            futures = [writers.submit(copy, low, high) for low, high in chunks]
            try:
                for future in futures:
                    copied = future.result()
                    self.summary.add(step, copied)
                    self.progress.advance(copied)
            except BaseException:
                for future in futures:
                    future.cancel()  # the chunks not started yet; those under way commit or roll back
                raise
        self.progress.end()

    def prepare_copy(self, step: str, table: str, point: imports.Checkpoint, pending: IdRange) -> str:
        """Before the first chunk: ids reserved for the rows to come, the table their chunks are copied
        into (the table, or its staging table when months are new), and the oldest of them remembered
        as where the fold must start."""
        blocks: list[list[int]] = point.detail.setdefault("blocks", [])
        with transaction() as connection:
            if not blocks or blocks[-1][1] < pending.last:
                first = blocks[-1][1] + 1 if blocks else 1
                blocks.append([first, pending.last, imports.reserve_ids(connection, table, first, pending.last)])
            imports.save_checkpoint(connection, self.key, step, point)
            target = table
            oldest, newest = self.source.time_span()
            if oldest is not None and newest is not None:
                wanted = partitions.months(partitions.Month.of(oldest), partitions.Month.of(newest))
                target = partitions.stage(connection, table, wanted) or table
            if pending.oldest is not None:
                self.remember_fold_from(connection, pending.oldest)
        return target

    def attach_staged(self, step: str, table: str) -> None:
        """The staged months attached to the table one by one, then the rows of its own months inserted."""
        with transaction() as connection:
            months = partitions.staged_months(connection, table)
        if months:
            self.progress.begin(f"{step} indexes", len(months), "months")
            for month in months:
                with transaction() as connection:
                    partitions.attach_staged(connection, table, month)
                self.progress.advance(1)
            self.progress.end()
        with transaction() as connection:
            partitions.finish_staging(connection, table)

    def remember_fold_from(self, connection: Any, oldest: datetime) -> None:
        fold = imports.checkpoint(connection, self.key, "fold")
        known = fold.detail.get("from")
        if known is None or datetime.fromisoformat(known) > oldest:
            fold.detail["from"] = oldest.isoformat()
            imports.save_checkpoint(connection, self.key, "fold", fold)

    # 4. schedules ---------------------------------------------------------------------------------
    def import_schedules(self) -> None:
        rows = self.source.schedules()
        with transaction() as connection:
            done = imports.mapped_ids(connection, self.key, SCHEDULE)
        ids = self.video_ids()
        zone = get_settings().schedule_default_timezone
        for row in rows:
            if row.id in done or row.status == "pending":
                continue
            self.summary.add("schedule history rows")
            if self.options.dry_run:
                continue
            with transaction() as connection:
                new_id = imports.insert_history(connection, _history_row(row, ids[row.video_id], zone))
                imports.map_id(connection, self.key, SCHEDULE, row.id, new_id, row.status)
        self.recreate_pending(rows, done)

    def recreate_pending(self, rows: list[LegacySchedule], done: dict[int, tuple[int, str | None]]) -> None:
        """Each video's pending publish and unpublish: the video's own column, else its latest pending row."""
        now = datetime.now(UTC)
        for (video_id, action), (instant, user, legacy_rows) in _pending(self.videos, rows).items():
            kind = f"pending-{action}"
            with transaction() as connection:
                if video_id in imports.mapped_ids(connection, self.key, kind):
                    continue
            if user is None:
                self.summary.notes.append(f"video {video_id}: pending {action} has nobody who scheduled it; skipped")
                continue
            due = instant <= now
            self.summary.add(f"pending {action}es run now (past due)" if due else f"pending {action}es scheduled")
            if self.options.dry_run:
                continue
            self.schedule_one(self.video_ids()[video_id], action, instant, user, due, (video_id, kind, legacy_rows))

    def schedule_one(
        self, video_id: int, action: str, instant: datetime, user: int, due: bool, legacy: tuple[int, str, list[int]]
    ) -> None:
        from chalicelib.adapters.scheduler import ScheduleSpec, put_schedule, require_config
        from chalicelib.db.engine import session_scope
        from chalicelib.db.models import VideoScheduleHistory
        from chalicelib.repositories import schedules as schedules_repo
        from chalicelib.repositories import videos as videos_repo
        from chalicelib.services.scheduling.actions import pending_column
        from chalicelib.services.scheduling.execution import execute_scheduled_action

        settings = require_config()
        legacy_video, kind, legacy_rows = legacy
        with session_scope() as session:
            video = videos_repo.lock(session, video_id)
            if video is None:
                return
            row = schedules_repo.add(
                session,
                VideoScheduleHistory(
                    video_id=video_id,
                    action=action,
                    scheduled_for=instant,
                    timezone=settings.schedule_default_timezone,
                    status=schedules_repo.PENDING,
                    scheduled_by_user_id=user,
                ),
            )
            setattr(video, pending_column(action), instant)
            connection = session.connection()
            imports.map_id(connection, self.key, kind, legacy_video, row.id, "due" if due else "scheduled")
            for legacy_id in legacy_rows:
                imports.map_id(connection, self.key, SCHEDULE, legacy_id, row.id, "pending")
            spec = ScheduleSpec.of(row)
            if not due:
                put_schedule(spec, settings)  # a Scheduler failure rolls the rows back (503): run again later
        if due:
            execute_scheduled_action(spec.payload(), now=datetime.now(UTC))

    # 5. media -----------------------------------------------------------------------------------
    def import_media(self) -> None:
        from chalicelib.adapters import media_storage
        from chalicelib.services import ingest

        with transaction() as connection:
            waiting = {
                legacy: new
                for legacy, (new, state) in imports.mapped_ids(connection, self.key, VIDEO).items()
                if state == MEDIA_WAITING
            }
        files = [(video, self.media_file(video)) for video in self.videos if video.id in waiting]
        if self.options.dry_run:
            self.summary.add("media files to upload", len([path for _, path in files if path]))
            return
        if not files:
            return
        self.progress.begin("media", sum(path.stat().st_size for _, path in files if path), "B")
        for video, path in files:
            key = self.filename_of(waiting[video.id])
            state = MEDIA_MISSING
            if path is not None:
                media_storage.upload_file(key, str(path), _content_type(path))
                state = self.ingest(ingest.ingest_object, key, video)
                self.progress.advance(path.stat().st_size)
            with transaction() as connection:
                imports.map_id(connection, self.key, VIDEO, video.id, waiting[video.id], state)
        self.progress.end()

    def ingest(self, ingest_object: Callable[[str], object], key: str, video: LegacyVideo) -> str:
        try:
            ingest_object(key)
        except Unprocessable as exc:
            self.summary.add("media rejected (not a video)")
            self.summary.notes.append(f"video {video.id} ({video.filename}): {exc.message}")
            return MEDIA_REJECTED
        self.summary.add("media uploaded and ingested")
        return MEDIA_INGESTED

    def filename_of(self, video_id: int) -> str:
        from sqlalchemy import text

        with transaction() as connection:
            found = connection.execute(text("SELECT filename FROM videos WHERE id = :id"), {"id": video_id})
            return str(found.scalar())

    # 6. fold ------------------------------------------------------------------------------------
    def fold(self) -> None:
        from chalicelib.services.analytics import backlog

        with transaction() as connection:
            point = imports.checkpoint(connection, self.key, "fold")
        start = point.detail.get("from")
        if start is None or self.options.dry_run:
            return
        oldest = datetime.fromisoformat(start)
        first = self.rewind_watermark(oldest)
        hours = max(1, int((datetime.now(UTC) - first).total_seconds() // 3600))
        self.progress.begin("fold", hours, "h")
        reached = [first]

        def on_step(folded_until: datetime) -> None:
            self.progress.advance(max(0, int((folded_until - reached[0]).total_seconds() // 3600)))
            reached[0] = folded_until

        steps = 0
        while True:
            result = backlog.fold(budget_seconds=3600, on_step=on_step)
            steps += result.steps
            if result.finished:
                break
        self.progress.end()
        self.summary.add("fold steps", steps)
        with transaction() as connection:
            point.detail.pop("from", None)
            imports.save_checkpoint(connection, self.key, "fold", point)

    def rewind_watermark(self, oldest: datetime) -> datetime:
        """Move the fold watermark back to the oldest imported row's hour; return where folding starts.

        Refolding recomputes hours from raw rows, so it must not reach back past raw rows this
        database already deleted (retention): that would lose their figures.
        """
        from chalicelib.repositories.analytics import state
        from chalicelib.services.analytics.folding import kept_from
        from chalicelib.services.analytics.periods import floor_hour

        start = floor_hour(oldest)
        with transaction() as connection:
            state.lock(connection)
            instants = state.instants(connection)
            folded = instants.get(state.FOLDED_UNTIL)
            if folded is None or folded <= start:
                return folded or start
            kept = kept_from(instants)
            if kept is not None and start < kept:
                raise ImportFailed(
                    f"imported rows go back to {start.isoformat()}, but this database deleted its own raw rows "
                    f"before {kept.isoformat()} (retention): their hours cannot be folded again"
                )
            state.set_instant(connection, state.FOLDED_UNTIL, start)
        return start


def _mark_copied(connection: Any, source: str, step: str, low: int, high: int) -> None:
    """Note the ids (low, high] as copied, in the chunk's transaction; the position moves over every
    chunk copied in a row from it, the others wait in ``detail["copied"]``."""
    point = imports.checkpoint(connection, source, step, lock=True)
    copied = sorted([*point.detail.get(COPIED, []), [low, high]])
    while copied and copied[0][0] <= point.position:
        point.position = max(point.position, copied.pop(0)[1])
    point.detail[COPIED] = copied
    imports.save_checkpoint(connection, source, step, point)


def _chunks_to_copy(position: int, last: int, size: int, copied: list[list[int]]) -> list[tuple[int, int]]:
    """The (low, high] id ranges after ``position`` up to ``last`` not yet copied, at most ``size`` ids each."""
    chunks: list[tuple[int, int]] = []
    low = position
    for done_low, done_high in [*sorted(copied), [last, last]]:
        while low < min(done_low, last):
            high = min(low + size, done_low, last)
            chunks.append((low, high))
            low = high
        low = max(low, done_high)
    return chunks


def _pending(
    videos: list[LegacyVideo], rows: list[LegacySchedule]
) -> dict[tuple[int, str], tuple[datetime, int | None, list[int]]]:
    """``(legacy video, action) → (instant, who scheduled it, legacy pending rows)``.

    The video's ``scheduledPublishAt`` / ``scheduledUnpublishAt`` is the module's pending instant;
    a ``pending`` history row without one still counts (its latest instant). The one who
    scheduled it is that row's user, else the last user who scheduled anything for the video.
    """
    latest_user: dict[int, int] = {}
    pending_rows: dict[tuple[int, str], list[LegacySchedule]] = {}
    for row in rows:
        latest_user[row.video_id] = row.scheduled_by_user_id
        if row.status == "pending":
            pending_rows.setdefault((row.video_id, row.action), []).append(row)
    found: dict[tuple[int, str], tuple[datetime, int | None, list[int]]] = {}
    for video in videos:
        for action, column in (("publish", video.scheduled_publish_at), ("unpublish", video.scheduled_unpublish_at)):
            legacy = pending_rows.get((video.id, action), [])
            newest = max(legacy, key=lambda row: row.scheduled_for, default=None)
            instant = column or (newest.scheduled_for if newest else None)
            if instant is None:
                continue
            user = newest.scheduled_by_user_id if newest else latest_user.get(video.id)
            found[video.id, action] = (instant, user, [row.id for row in legacy])
    return found


def _video_row(video: LegacyVideo, new_id: int, key: str) -> dict[str, Any]:
    thumbnail = video.thumbnail_url if (video.thumbnail_url or "").startswith(("https://", "http://")) else None
    return {
        "id": new_id,
        "filename": key,
        "title": video.title,
        "producer": video.producer,
        "creator": video.creator,
        "thumbnail_url": thumbnail,
        "duration": video.duration,
        "file_size": video.file_size,
        "width": video.width,
        "height": video.height,
        "orientation": video.orientation,
        "quality": video.quality,
        "has_audio": video.has_audio,
        "is_published": video.is_published,
        "created_at": video.created_at,
        "updated_at": video.updated_at,
    }


def _name(video: LegacyVideo) -> str:
    """The file name the new key keeps (any name at all: one with no letters or digits becomes the id)."""
    from chalicelib.adapters.media_storage import safe_basename

    try:
        return safe_basename(video.filename)
    except DomainError:
        return f"video-{video.id}.mp4"


def _history_row(row: LegacySchedule, video_id: int, zone: str) -> dict[str, Any]:
    status = row.status if row.status in KNOWN_STATUSES else "failed"
    error = row.error if status == row.status else f"{row.error or ''} (status {row.status!r} in the module)".strip()
    return {
        "video_id": video_id,
        "action": row.action,
        "scheduled_for": row.scheduled_for,
        "timezone": zone,
        "executed_at": row.executed_at,
        "status": status,
        "error": error,
        "user_id": row.scheduled_by_user_id,
        "created_at": row.executed_at or row.scheduled_for,
    }


def _shifted(column: str, blocks: list[list[int]]) -> str:
    """SQL for a legacy id moved by its block's offset (``[first, last, offset]``; the last block goes on)."""
    if not blocks:
        return column
    cases = " ".join(f"WHEN {column} <= {last} THEN {column} + {offset}" for _, last, offset in blocks[:-1])
    final = f"{column} + {blocks[-1][2]}"
    return f"CASE {cases} ELSE {final} END" if cases else final


def _mapped(column: str, ids: dict[int, int]) -> str:
    """SQL for a legacy video id mapped to its id here (only the few that changed are spelled out)."""
    changed = {legacy: new for legacy, new in ids.items() if legacy != new}
    if not changed:
        return column
    cases = " ".join(f"WHEN {legacy} THEN {new}" for legacy, new in sorted(changed.items()))
    return f"CASE {column} {cases} ELSE {column} END"


def _clean_referrers(data: bytes) -> bytes:
    from chalicelib.services.importing.copy_text import rewrite_last_field

    return rewrite_last_field(data, stored_referrer)


def _content_type(path: Path) -> str:
    import mimetypes

    guessed = mimetypes.guess_type(path.name)[0] or ""
    return guessed if guessed.startswith("video/") else "video/mp4"


__all__ = ["ImportFailed", "NoProgress", "Options", "Progress", "SourceError", "Summary", "run_import"]
