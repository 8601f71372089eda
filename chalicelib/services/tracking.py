"""Public view tracking: views, player events, heartbeats and batches of them.

Rules of tracking:

* a view is answered with a *view token*, a short HMAC of its id; heartbeats and
  events naming a view must carry it, so nobody can inflate or reset another
  viewer's watch time by guessing ids;
* watch time is a view's cumulative time: only the maximum is kept, capped at the
  seconds since the view started (+30 s) and at 3x the video's duration;
* rate limits are counted in PostgreSQL in the same statement as the write, so every
  Lambda container shares them and a 2xx is always stored.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field

from chalicelib.config import get_settings
from chalicelib.domain import errors, viewers
from chalicelib.domain.qoe import PlayerQoe
from chalicelib.domain.viewers import ViewerContext
from chalicelib.observability import metrics
from chalicelib.repositories import tracking as repo
from chalicelib.services.privacy import keyed_digest, rate_limit_key, stored_referrer, visitor_key
from chalicelib.services.rate_limits import LIMITS, enforce

VIEW_TOKEN_BYTES = 16  # 128 bits: unguessable, 22 characters of base64url


# --- view tokens -------------------------------------------------------------------------


def view_token(view_id: int, month: str | None = None) -> str:
    """The token that proves the caller was handed ``view_id`` by ``POST /track/view``.

    It also carries the month of the partition holding the view (``.YYYYMM``, covered by
    the HMAC), so that heartbeats and events go straight to that partition.
    """
    subject = f"view:{view_id}" if month is None else f"view:{view_id}:{month}"
    digest = keyed_digest(get_settings().view_token_key, subject.encode())[:VIEW_TOKEN_BYTES]
    mac = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return mac if month is None else f"{mac}.{month.replace('_', '')}"


def check_view_token(view_id: int, token: str | None) -> str | None:
    """The view's month (``YYYY_MM``, None when the token names none); 403 unless ``token`` is the view's."""
    month = None
    if token and "." in token:
        digits = token.rpartition(".")[2]
        if len(digits) == _MONTH_DIGITS and digits.isascii() and digits.isdigit():
            month = f"{digits[:4]}_{digits[4:]}"
    if not token or not hmac.compare_digest(token.encode(), view_token(view_id, month).encode()):
        raise errors.PermissionDenied("viewToken is missing or does not match viewId")
    return month


_MONTH_DIGITS = 6


# --- single requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who sends a tracking request, as far as tracking cares."""

    ip: str
    user_id: int | None = None
    is_admin: bool = False
    user_agent: str | None = None
    country_header: str | None = None
    # The browser's Global Privacy Control (``Sec-GPC: 1``): the person opted out of being tracked.
    global_privacy_control: bool = False
    # "web" (a page on an allowed origin) or "app" (no page named), as the HTTP layer found it.
    source: str | None = None

    @property
    def rate_key(self) -> str:
        return rate_limit_key(self.ip)

    def identity(self, consent: bool) -> int | None:
        """The user id a view may carry: the caller's, only when they consented and their browser does
        not signal Global Privacy Control (GPC wins); otherwise the view is anonymous."""
        if not consent or self.global_privacy_control:
            return None
        return self.user_id

    def context(self) -> ViewerContext:
        """What the view records of the caller's situation: derived codes only."""
        from chalicelib.adapters import user_agents

        agent = user_agents.parse(self.user_agent) if self.user_agent else None
        return ViewerContext(agent, viewers.country(self.country_header))


def _enforce(rate: repo.Limited, bucket: str) -> None:
    enforce(rate.hits, rate.retry_after, bucket)


def record_view(caller: Caller, video_id: int, referer: str | None, consent: bool = False) -> tuple[int, str]:
    """Record a view; return ``(view_id, view_token)``. Unknown or unpublished video: 404.

    The view carries the caller's user id only with ``consent`` (see :meth:`Caller.identity`); its
    heartbeats and events never add one, so an anonymous view stays anonymous.
    """
    rate, found, view_id, month = repo.insert_view(
        client_key=caller.rate_key,
        limit=LIMITS["track-view"],
        video_id=video_id,
        team=caller.is_admin,
        user_id=caller.identity(consent),
        ip_hash=visitor_key(caller.ip, caller.user_agent),
        referer=stored_referrer(referer),
        context=caller.context(),
        source=caller.source,
    )
    _enforce(rate, "track-view")
    if not found or view_id is None:
        raise errors.NotFound("Video not found")
    _count("ViewsRecorded")
    return int(view_id), view_token(int(view_id), month)


def format_timestamp(seconds: float) -> str:
    """A player position as the decimal text stored in ``numeric(10, 2)``."""
    return f"{seconds:.2f}"


def record_event(
    caller: Caller, video_id: int, view_id: int | None, token: str | None, event_type: str, timestamp: float
) -> None:
    """Store one player event; ``complete`` marks its view completed and ends it."""
    month = check_view_token(view_id, token) if view_id is not None else None
    rate, duration, view_ok, inserted = repo.insert_event(
        client_key=caller.rate_key,
        limit=LIMITS["track-event"],
        video_id=video_id,
        team=caller.is_admin,
        view_id=view_id,
        month=month,
        event_type=event_type,
        timestamp=format_timestamp(timestamp),
    )
    _enforce(rate, "track-event")
    if duration is None:
        raise errors.NotFound("Video not found")
    if view_id is not None and not view_ok:
        raise errors.NotFound("View not found for this video")
    if not inserted:
        raise errors.Unprocessable(f"timestamp must be between 0 and the video's duration + 1 ({duration + 1} s)")
    _count(f"Events.{event_type}")


@dataclass(frozen=True)
class Beat:
    """A heartbeat: the view's cumulative watch time, and what else the player reports with it."""

    watch_time: float
    position: float | None = None
    qoe: PlayerQoe | None = None
    ended: bool = False


def record_heartbeat(caller: Caller, view_id: int, token: str | None, beat: Beat) -> int:
    """Raise the view's watch time (capped) and QoE, note the player's position, end the view when
    the viewer left; return the watch time."""
    month = check_view_token(view_id, token)
    rate, result = repo.update_watch_time(
        client_key=caller.rate_key,
        limit=LIMITS["track-heartbeat"],
        view_id=view_id,
        month=month,
        watch_time=int(beat.watch_time),
        position=None if beat.position is None else format_timestamp(beat.position),
        qoe=beat.qoe,
        ended=beat.ended,
    )
    _enforce(rate, "track-heartbeat")
    if not result.view_found:
        raise errors.NotFound("View not found")
    if not result.position_ok:
        raise errors.InvalidInput(f"position must be between 0 and the video's duration + 1 ({result.duration} + 1 s)")
    return result.watch_time


# --- batches -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchEvent:
    index: int
    video_id: int
    view_id: int | None
    view_token: str | None
    event_type: str
    timestamp: float


@dataclass(frozen=True)
class BatchHeartbeat:
    index: int
    view_id: int
    view_token: str | None
    beat: Beat


@dataclass(frozen=True)
class Rejection:
    """A batch item not recorded: its index, the status its single route would have answered, why."""

    index: int
    status: int
    reason: str


@dataclass
class BatchResult:
    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    # When items refused for the rate limit may be sent again (seconds), None when none was.
    retry_after: int | None = None


# The database's reasons for refusing an item (repositories/tracking.py BATCH_SQL), as answers.
_REFUSALS: dict[str, tuple[int, str]] = {
    "rate_limited": (429, "Too many requests: this client's per-minute limit for this kind of item is used up"),
    "video_not_found": (404, "Video not found"),
    "view_not_found": (404, "View not found"),
    "timestamp_beyond_end": (422, "timestamp is beyond the end of the video"),
    "position_beyond_end": (400, "position is beyond the end of the video"),
}
_TOKEN_MISMATCH = "viewToken is missing or does not match viewId"


def record_batch(
    caller: Caller,
    events: list[BatchEvent],
    heartbeats: list[BatchHeartbeat],
    rejected: list[Rejection],
    total: int,
) -> BatchResult:
    """Write the valid items of a batch in one statement; each bad item is rejected alone.

    ``rejected`` already holds the items that failed validation; token checks happen
    here, database checks (unknown video or view, timestamp past the end) in SQL. The
    batch counts against its own per-IP limit, and each item against its single route's
    (100 events, 200 heartbeats a minute): items beyond that budget are rejected with 429.
    """
    rejected = list(rejected)
    rows = repo.BatchRows()
    for event in events:
        if event.view_id is not None and not _token_ok(event.view_id, event.view_token):
            rejected.append(Rejection(event.index, 403, _TOKEN_MISMATCH))
            continue
        rows.ev_idx.append(event.index)
        rows.ev_video.append(event.video_id)
        rows.ev_view.append(event.view_id)
        rows.ev_type.append(event.event_type)
        rows.ev_ts.append(format_timestamp(event.timestamp))
    for beat in heartbeats:
        if not _token_ok(beat.view_id, beat.view_token):
            rejected.append(Rejection(beat.index, 403, _TOKEN_MISMATCH))
            continue
        rows.hb_idx.append(beat.index)
        rows.hb_view.append(beat.view_id)
        rows.hb_watch.append(int(beat.beat.watch_time))
        rows.hb_pos.append(None if beat.beat.position is None else format_timestamp(beat.beat.position))
        rows.hb_qoe.append(beat.beat.qoe)
        rows.hb_ended.append(beat.beat.ended)
    limits = repo.BatchLimits(LIMITS["track-batch"], LIMITS["track-event"], LIMITS["track-heartbeat"])
    rate, refused, retry_after = repo.write_batch(
        client_key=caller.rate_key, limits=limits, team=caller.is_admin, rows=rows
    )
    _enforce(rate, "track-batch")
    rejected.extend(Rejection(index, *_REFUSALS[code]) for index, code in refused)
    refused_indexes = {index for index, _ in refused}
    for position, index in enumerate(rows.ev_idx):
        if index not in refused_indexes:
            _count(f"Events.{rows.ev_type[position]}")
    rejected.sort(key=lambda rejection: rejection.index)
    limited = any(code == "rate_limited" for _, code in refused)
    return BatchResult(total - len(rejected), rejected, retry_after if limited else None)


def _token_ok(view_id: int, token: str | None) -> bool:
    try:
        check_view_token(view_id, token)
    except errors.PermissionDenied:
        return False
    return True


# --- metrics (Powertools EMF; the API's middleware flushes them once per request) -------
# Views and events are counted; heartbeats are not: every player sends one each 10 seconds, so a
# metric line per heartbeat would cost each one an EMF flush (a tenth of its time in the handler)
# and a CloudWatch Logs line, for a count API Gateway already keeps per route and a watch time the
# analytics reports hold.


def _count(name: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
