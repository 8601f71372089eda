"""``make bench``: tracking throughput and analytics latency on a synthetic library.

One run, one database: it creates ``media_bench`` on the server ``DATABASE_URL`` names
(or the embedded one), migrates it, COPYs in 1,000 videos, 1,000,000 views (10% of them
on one busy video, the rest with 1/rank^0.8 popularity, 1% team views) and 5,000,000
events spread over 120 days, in the order they happened (as tracking writes them), folds
them (the first scheduled refresh), then prints

1. tracking: ``track/view`` and ``track/heartbeat`` (as the SDK sends it: position and QoE)
   driven through the tracking function's Lambda handler (API Gateway proxy events, in-process,
   rate limiting, logging and metrics included) beside a bare pg8000 single-row INSERT on the
   same database;
2. analytics: per-video (the busy and a typical video, by day, by hour, in another
   zone), top, overview and aggregate, through the same entry point with an admin
   token, with the views tracked in 1. still unfolded (today's views included);
3. the sketches' error against exact counts;
4. the seed's approach (load a busy video's views into Python and count) beside ours;
5. listing 100 videos with and without signed URLs;
6. retention dropping half the seeded history;
7. the player: the SDK's size, and the bytes an embed page fetches before its first frame
   (:mod:`scripts.bench_player`);
8. media: the HLS ladder of three kinds of clip, upload to ready, against bare ffmpeg, and the
   playlist route (:mod:`scripts.bench_media`).

Every figure is the median of several runs. Not a test: nothing here asserts a time.
Options: ``--views N --events N --videos N --days N --busy-share F --keep`` (keep the
database); ``--no-player`` skips 7., ``--no-media`` 8. (``--media-seconds N`` its clips' length);
``--views 10000000`` is the 10M run of the README. ``--database NAME --reuse``
measures again on a database an earlier ``--keep`` run left, without seeding, the first fold
or building zones: for trying a change in minutes rather than the hours a 10M seed takes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from scripts.embedded_db import server_url, with_database

BENCH_DB = "media_bench"
ROUNDS = 5
COLD_IMPORT_RUNS = 7  # fresh interpreters per entry module (fewer when --samples asks for fewer runs)
EVENT_TYPES = ("play", "play", "pause", "pause", "seek", "complete")
REFERERS = [f"https://site{n}.example/page" for n in range(25)] + [None] * 10
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
    "Mobile/15E148 Safari/604.1",
]
# Viewer contexts of the synthetic views, (device type, browser, OS) by weight, and countries by weight.
CONTEXTS = [
    (("desktop", "Chrome", "Windows"), 30),
    (("mobile", "Mobile Safari", "iOS"), 25),
    (("mobile", "Chrome Mobile", "Android"), 20),
    (("desktop", "Safari", "Mac OS X"), 8),
    (("desktop", "Firefox", "Windows"), 5),
    (("tablet", "Mobile Safari", "iOS"), 5),
    (("desktop", "Edge", "Windows"), 4),
    (("tv", "Safari", "Tizen"), 2),
    (("desktop", "Chrome", "Linux"), 1),
]
COUNTRY_CODES = ("US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "ES", "IT", "NL", "PL", "SE", "MX", "AU", "KR")
COUNTRIES = [(code, 1 / rank) for rank, code in enumerate(COUNTRY_CODES, 1)]
ZIPF_EXPONENT = 0.8  # video popularity: weight of the k-th video is 1/k^0.8
TEAM_EVERY = 100  # one view in a hundred was recorded by the team


# --- database ----------------------------------------------------------------------------


def native_connection(url: str) -> Any:
    """A plain pg8000 connection (autocommit) to ``url``."""
    import pg8000.native

    from chalicelib.db.engine import pg8000_connect_kwargs

    return pg8000.native.Connection(**pg8000_connect_kwargs(url))


def create_database(server: str, name: str = BENCH_DB) -> str:
    admin = native_connection(server)
    admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.run(f'CREATE DATABASE "{name}"')
    admin.close()
    url = with_database(server, name)
    migrate(url)
    return url


def migrate(url: str) -> None:
    """Bring the schema to this checkout's head (a kept database may be from an earlier one)."""
    from alembic import command
    from alembic.config import Config

    config = Config("alembic.ini")
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def drop_database(server: str, name: str = BENCH_DB) -> None:
    from chalicelib.db import fastpath
    from chalicelib.db.engine import dispose_engine

    dispose_engine()
    fastpath.dispose()
    admin = native_connection(server)
    admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


# --- seeding -----------------------------------------------------------------------------


def _copy(connection: Any, table: str, columns: str, rows: Iterator[str], chunk: int = 200_000) -> None:
    """COPY rows (tab-separated lines) in chunks, so memory stays flat."""
    buffer: list[str] = []
    for line in rows:
        buffer.append(line)
        if len(buffer) >= chunk:
            connection.run(f"COPY {table} ({columns}) FROM STDIN", stream=io.StringIO("".join(buffer)))
            buffer.clear()
    if buffer:
        connection.run(f"COPY {table} ({columns}) FROM STDIN", stream=io.StringIO("".join(buffer)))


def seed(url: str, videos: int, views: int, events: int, days: int, busy_share: float) -> dict[str, Any]:
    """COPY the synthetic library in; secondary indexes are rebuilt after the load."""
    rng = random.Random(42)
    connection = native_connection(url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    durations = [rng.randint(30, 3600) for _ in range(videos)]
    _copy(
        connection,
        "users",
        "id, email, name, role",
        (f"{i}\tviewer{i}@example.test\tViewer {i}\tUSER\n" for i in range(1, 5001)),
    )
    connection.run("SELECT setval('users_id_seq', 5000)")
    _copy(
        connection,
        "videos",
        "id, filename, title, duration, file_size, width, height, orientation, quality, is_published, created_at",
        (
            f"{i}\tbench/{i}.mp4\tBench video {i}\t{durations[i - 1]}\t{rng.randint(10**6, 10**9)}\t1920\t1080\tH\tFHD"
            f"\t{'t' if i % 10 else 'f'}\t{(now - timedelta(days=days + 1)).isoformat()}\n"
            for i in range(1, videos + 1)
        ),
    )
    connection.run(f"SELECT setval('videos_id_seq', {videos})")
    _create_months(url, now - timedelta(days=days + 1), now)
    index_definitions = _drop_secondary_indexes(connection)
    weights = [1 / (rank**ZIPF_EXPONENT) for rank in range(2, videos + 1)]
    busy = int(views * busy_share)
    view_video = [1] * busy + rng.choices(range(2, videos + 1), weights=weights, k=views - busy)
    rng.shuffle(view_video)
    ip_pool = [os.urandom(32).hex() for _ in range(200_000)]
    # In the order they happened, as tracking appends them: a table filled in random time order
    # makes every time-range scan a random heap read, which production never sees.
    view_times = sorted(now - timedelta(seconds=rng.random() * days * 86400) for _ in range(views))
    contexts, countries = _viewer_contexts(rng, views)

    def view_rows() -> Iterator[str]:
        for n in range(views):
            video_id = view_video[n]
            registered = rng.random() < 0.3
            user = str(rng.randint(1, 5000)) if registered else "\\N"
            ip = "\\N" if registered else ip_pool[rng.randrange(len(ip_pool))]
            referer = REFERERS[rng.randrange(len(REFERERS))] or "\\N"
            duration = durations[video_id - 1]
            watch = rng.randint(0, duration)
            completed = "t" if watch > duration * 0.9 else "f"
            device, browser, os_family = contexts[n]
            team = "t" if n % TEAM_EVERY == 0 else "f"
            yield (
                f"{n + 1}\t{video_id}\t{user}\t{ip}\t{referer}\t{watch}\t{completed}\t"
                f"{view_times[n].isoformat()}\t{team}\t{device}\t{browser}\t{os_family}\t{countries[n]}\t"
                f"{_qoe_columns(rng, view_times[n])}\n"
            )

    _copy(
        connection,
        "video_views",
        "id, video_id, user_id, ip_address, referer, watch_time_seconds, completed, created_at, is_team, device_type, "
        f"browser, os, country, {QOE_COLUMNS}",
        view_rows(),
    )
    connection.run(f"SELECT setval('video_views_id_seq', {views})")

    def event_rows() -> Iterator[str]:
        """``events`` spread evenly over the views (so over videos as views are), each view's in
        the ten minutes after it started, in view order like the views."""
        number = 0
        for view in range(views):
            video_id = view_video[view]
            count = (view + 1) * events // views - view * events // views
            offsets = sorted(rng.random() * 600 for _ in range(count))
            for offset in offsets:
                number += 1
                at = min(view_times[view] + timedelta(seconds=offset), now)
                kind = EVENT_TYPES[rng.randrange(len(EVENT_TYPES))]
                position = rng.random() * durations[video_id - 1]
                yield f"{number}\t{video_id}\t{view + 1}\t{kind}\t{position:.2f}\t{at.isoformat()}\n"

    _copy(connection, "video_events", "id, video_id, view_id, event_type, timestamp, created_at", event_rows())
    connection.run(f"SELECT setval('video_events_id_seq', {events})")
    loaded = time.perf_counter() - started
    for definition in index_definitions:
        connection.run(definition)
    connection.run("VACUUM ANALYZE")
    connection.close()
    return {"load_seconds": loaded, "total_seconds": time.perf_counter() - started}


QOE_COLUMNS = "qoe_at, startup_time_ms, rebuffer_count, rebuffer_ms, error_code"


def _qoe_columns(rng: random.Random, at: datetime) -> str:
    """A view's QoE as the SDK reports it: 85 % of players measure; of those 1 % fail and 3 % leave
    before the first frame; startup times log-normal around 600 ms; one play in five stalls."""
    if rng.random() >= 0.85:
        return "\\N\t\\N\t\\N\t\\N\t\\N"
    outcome = rng.random()
    if outcome < 0.01:
        return f"{at.isoformat()}\t\\N\t0\t0\tMEDIA_ERR_DECODE"
    if outcome < 0.04:
        return f"{at.isoformat()}\t\\N\t0\t0\t\\N"
    stalls = rng.randint(1, 4) if rng.random() < 0.2 else 0
    startup = int(rng.lognormvariate(6.4, 0.6))
    return f"{at.isoformat()}\t{startup}\t{stalls}\t{stalls * rng.randint(200, 3000)}\t\\N"


def _viewer_contexts(rng: random.Random, views: int) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Each synthetic view's (device type, browser, OS) and country, drawn by weight."""
    contexts = rng.choices([context for context, _ in CONTEXTS], [weight for _, weight in CONTEXTS], k=views)
    countries = rng.choices([code for code, _ in COUNTRIES], [weight for _, weight in COUNTRIES], k=views)
    return contexts, countries


def _create_months(url: str, first: datetime, last: datetime) -> None:
    """The monthly partitions the synthetic rows fall in (the migration made only the coming months)."""
    from sqlalchemy import create_engine

    from chalicelib.db.engine import to_sqlalchemy_url
    from chalicelib.repositories import partitions

    engine = create_engine(to_sqlalchemy_url(url))
    with engine.begin() as connection:
        partitions.ensure(connection, partitions.months(partitions.Month.of(first), partitions.Month.of(last)))
    engine.dispose()


def _drop_secondary_indexes(connection: Any) -> list[str]:
    """Drop the non-unique indexes of the two big tables; return their definitions to rebuild."""
    rows = connection.run(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid
        WHERE i.tablename IN ('video_views', 'video_events') AND NOT x.indisunique
        """
    )
    for name, _ in rows:
        connection.run(f'DROP INDEX "{name}"')
    # A partitioned table's index reads "ON ONLY <table>", which would not build the partitions' indexes.
    return [definition.replace(" ON ONLY ", " ON ") for _, definition in rows]


# --- measuring ---------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """EMF metric lines go to stdout (CloudWatch in Lambda); keep them out of the report."""
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - closed below
    try:
        yield
    finally:
        sys.stdout.close()
        sys.stdout = saved


def rounds_summary(rounds: list[list[float]]) -> dict[str, float]:
    """Median over rounds of each round's rate, p50 and p99."""
    return {
        "rate": statistics.median(len(samples) / sum(samples) for samples in rounds),
        "p50_ms": statistics.median(percentile(samples, 0.5) * 1000 for samples in rounds),
        "p99_ms": statistics.median(percentile(samples, 0.99) * 1000 for samples in rounds),
    }


def bench_tracking(url: str, requests: int) -> dict[str, dict[str, float]]:
    """Bare INSERTs, track/view and track/heartbeat, interleaved request by request.

    Interleaving puts the three under the same machine noise (WAL flush timing, other
    processes), so their ratio means something on a shared 2-core box. Tracking goes
    through ``app(event, context)`` with callers spread over many IPs; the bare INSERT
    is a plain autocommitted pg8000 ``run`` (and, for reference, a prepared one).
    """
    from chalicelib.domain.audience import PROGRESS_HOURS
    from chalicelib.entry.tracking import app
    from chalicelib.services.tracking import view_token
    from scripts.apigw import invoke, proxy_event

    connection = native_connection(url)
    connection.run("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, n int, at timestamptz DEFAULT now())")
    prepared = connection.prepare("INSERT INTO bench_bare (n) VALUES (:n)")
    published = [row[0] for row in connection.run("SELECT id FROM videos WHERE is_published ORDER BY id LIMIT 200")]
    # Heartbeats raise the watch time of views still being watched (created within the hours a heartbeat
    # may change, PROGRESS_HOURS), so each one really updates a row, as a player's does.
    # Their tokens name the view's monthly partition, as the ones track/view hands players do.
    candidates = connection.run(
        f"""
        SELECT vw.id, vw.watch_time_seconds, substring(vw.tableoid::regclass::text from '\\d{{4}}_\\d{{2}}$'),
               v.duration
        FROM video_views vw JOIN videos v ON v.id = vw.video_id
        WHERE vw.watch_time_seconds + :need < v.duration * 3
          AND vw.created_at > now() - interval '{PROGRESS_HOURS - 1} hours'
        ORDER BY random() LIMIT :n
        """,
        need=10 * ROUNDS + 10,
        n=requests,
    )
    tokens = {view_id: view_token(view_id, month) for view_id, _, month, _ in candidates}
    # 20 requests per IP per run: real players, far below the per-IP limits, which are still counted.
    ips = [f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}" for n in range(requests * ROUNDS // 20 + 1)]
    view_events = [
        proxy_event(
            "POST",
            "/api/track/view",
            body={"videoId": published[n % len(published)], "referer": "https://site1.example/page"},
            source_ip=ips[n % len(ips)],
            headers={"user-agent": AGENTS[n % 2], "cloudfront-viewer-country": "DE"},
        )
        for n in range(requests)
    ]
    names = ("bare pg8000 INSERT (run)", "bare pg8000 INSERT (prepared)", "view", "heartbeat")
    results: dict[str, list[list[float]]] = {name: [] for name in names}
    with quiet_stdout():
        for warm in view_events[:50]:
            invoke(app, warm)
        for round_number in range(ROUNDS):
            beats = [
                proxy_event(
                    "POST",
                    "/api/track/heartbeat",
                    body=_sdk_heartbeat(view_id, tokens[view_id], watch + 10 * (round_number + 1), duration),
                    source_ip=ips[n % len(ips)],
                    headers={"content-type": "text/plain;charset=UTF-8"},
                )
                for n, (view_id, watch, _, duration) in enumerate(candidates)
            ]
            samples: dict[str, list[float]] = {name: [] for name in names}
            for n in range(min(len(beats), len(view_events))):
                samples[names[0]].append(timed(partial(connection.run, "INSERT INTO bench_bare (n) VALUES (:n)", n=n)))
                samples[names[1]].append(timed(partial(prepared.run, n=n)))
                for name, event in (("view", view_events[n]), ("heartbeat", beats[n])):
                    samples[name].append(_timed_handler(app, event))
            for name in names:
                results[name].append(samples[name])
    connection.run("DROP TABLE bench_bare")
    connection.close()
    return {name: rounds_summary(rounds) for name, rounds in results.items()}


def _sdk_heartbeat(view_id: int, token: str, watch_time: int, duration: int) -> dict[str, Any]:
    """A heartbeat as the SDK sends it: the position played to and the player's quality of experience."""
    return {
        "viewId": view_id,
        "viewToken": token,
        "watchTimeSeconds": watch_time,
        "position": round(watch_time % max(duration, 1) + 0.25, 2),
        "qoe": {"startupTimeMs": 640, "rebufferCount": 1, "rebufferMs": 900, "bitrateKbps": 2400, "height": 720},
    }


def _timed_handler(app: Any, event: dict[str, Any]) -> float:
    """Seconds in the handler alone, as Lambda bills it: the runtime makes the context and reads the answer."""
    from scripts.apigw import LambdaContext

    context = LambdaContext()
    started = time.perf_counter()
    answer = app(event, context)
    seconds = time.perf_counter() - started
    _ensure_ok(event, answer["statusCode"], answer["body"])
    return seconds


def _expect_ok(app: Any, event: dict[str, Any]) -> Any:
    from scripts.apigw import invoke

    status, _, body = invoke(app, event)
    _ensure_ok(event, status, body)
    return body


def _ensure_ok(event: dict[str, Any], status: int, body: Any) -> None:
    if status != 200:
        raise RuntimeError(f"{event['resource']} answered {status}: {body}")


def busy_and_typical(url: str) -> tuple[int, int, int, int]:
    connection = native_connection(url)
    rows = connection.run("SELECT video_id, count(*) FROM video_views GROUP BY video_id ORDER BY 2 DESC")
    connection.close()
    busy, typical = rows[0], rows[len(rows) // 2]
    return int(busy[0]), int(busy[1]), int(typical[0]), int(typical[1])


def _admin_headers(url: str) -> dict[str, str]:
    from chalicelib.services.auth import issue_access_token

    connection = native_connection(url)
    admin_id = connection.run(
        """INSERT INTO users (email, name, role) VALUES ('bench@x.test', 'B', 'SUPER_ADMIN')
           ON CONFLICT (email) DO UPDATE SET role = 'SUPER_ADMIN' RETURNING id"""
    )[0][0]
    connection.close()
    return {"authorization": f"Bearer {issue_access_token(admin_id, 'SUPER_ADMIN')}"}


def _get(headers: dict[str, str], resource: str, video_id: int | None = None, **query: str) -> dict[str, Any]:
    from scripts.apigw import proxy_event

    params = {"video_id": str(video_id)} if video_id else None
    return proxy_event("GET", resource, headers=headers, path_parameters=params, query=query or None)


def analytics_cases(url: str, busy: int, typical: int) -> dict[str, dict[str, Any]]:
    """The admin analytics requests measured, as API Gateway proxy events."""
    from scripts.apigw import proxy_event

    headers = _admin_headers(url)
    video = "/api/videos/{video_id}/analytics"
    today = datetime.now(UTC).date()
    last_30 = {"startDate": (today - timedelta(days=29)).isoformat(), "endDate": today.isoformat()}
    return {
        "busy video, all 120 days": _get(headers, video, busy),
        "busy video, 30 days": _get(headers, video, busy, **last_30),
        "busy video, 30 days, Kolkata": _get(headers, video, busy, tz="Asia/Kolkata", **last_30),
        "busy video, hourly, 7 days": _get(headers, video, busy, interval="hour"),
        "busy video, 120 days + team": _get(headers, video, busy, includeTeam="true"),
        "typical video, all 120 days": _get(headers, video, typical),
        "top (views)": _get(headers, "/api/videos/analytics/top", metric="views", limit="10"),
        "top (watchTime)": _get(headers, "/api/videos/analytics/top", metric="watchTime", limit="10"),
        "overview": _get(headers, "/api/videos/analytics/overview"),
        "overview, New York": _get(headers, "/api/videos/analytics/overview", tz="America/New_York"),
        "live (busy video)": _get(headers, "/api/videos/{video_id}/analytics/live", busy),
        "live (library)": _get(headers, "/api/videos/analytics/live"),
        "retention (busy video, 30 days)": _get(
            headers, "/api/videos/{video_id}/analytics/retention", busy, startDate=last_30["startDate"]
        ),
        **breakdown_cases(headers, busy, last_30),
        "aggregate (busy video)": proxy_event(
            "POST",
            "/api/videos/{video_id}/analytics/aggregate",
            headers=headers,
            path_parameters={"video_id": str(busy)},
            body={},
        ),
    }


BREAKDOWN = "/api/videos/{video_id}/analytics/breakdown"
LIBRARY_BREAKDOWN = "/api/videos/analytics/breakdown"


def breakdown_cases(headers: dict[str, str], busy: int, last_30: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Breakdowns of the busy video and of the library (the QoE reports are the cases above: every video
    report and overview carries its ``qoe``)."""
    return {
        "breakdown busy, country, views": _get(headers, BREAKDOWN, busy, by="country"),
        "breakdown busy, country, viewers": _get(headers, BREAKDOWN, busy, by="country", metric="uniqueViewers"),
        "breakdown busy, device, p50, 30d": _get(
            headers, BREAKDOWN, busy, by="device", metric="startupTimeP50Ms", **last_30
        ),
        "breakdown busy, os, views, Kolkata": _get(headers, BREAKDOWN, busy, by="os", tz="Asia/Kolkata", **last_30),
        "breakdown busy, country, viewers, 30d": _get(
            headers, BREAKDOWN, busy, by="country", metric="uniqueViewers", **last_30
        ),
        "breakdown library, country, viewers": _get(headers, LIBRARY_BREAKDOWN, by="country", metric="uniqueViewers"),
        "breakdown library, country, viewers, 30d": _get(
            headers, LIBRARY_BREAKDOWN, by="country", metric="uniqueViewers", **last_30
        ),
        "breakdown library, browser, rebuffer": _get(headers, LIBRARY_BREAKDOWN, by="browser", metric="rebufferRatio"),
        "breakdown library, referrer, 30d": _get(headers, LIBRARY_BREAKDOWN, by="referrerHost", **last_30),
    }


def breakdown_sketch_errors(url: str, cases: dict[str, dict[str, Any]]) -> list[tuple[str, str, int, int]]:
    """``(case, country, answered, exact)`` of the unique viewers per country (busy video, library)."""
    import json

    from app import app
    from chalicelib.domain.sketch import VIEWER_KEY_SQL

    statement = (
        f"SELECT country, count(DISTINCT {VIEWER_KEY_SQL.format(p='vw.')}) FROM video_views vw "
        "WHERE NOT is_team AND (:video = 0 OR video_id = :video) AND device_type IS DISTINCT FROM 'bot' "
        "AND created_at >= CAST(:first AS date) AT TIME ZONE 'UTC' "
        "AND created_at < (CAST(:last AS date) + 1) AT TIME ZONE 'UTC' GROUP BY country"
    )
    connection = native_connection(url)
    found = []
    with quiet_stdout():
        for name in [case for case in cases if case.startswith("breakdown") and ", country, viewers" in case]:
            event = cases[name]
            body = _expect_ok(app, event)
            answer = json.loads(body) if isinstance(body, str | bytes) else body
            video = int(event["pathParameters"]["video_id"]) if event.get("pathParameters") else 0
            query = event.get("queryStringParameters") or {}
            first, last = query.get("startDate", "2000-01-01"), query.get("endDate", "2100-01-01")
            exact = dict(connection.run(statement, video=video, first=first, last=last))
            found += [
                (name, row["value"], int(row["uniqueViewers"]), int(exact[row["value"]])) for row in answer["rows"]
            ]
    connection.close()
    return found


def bench_analytics(cases: dict[str, dict[str, Any]], samples: int) -> dict[str, dict[str, float]]:
    """Admin analytics routes through the entry point (JWT and admin rate limit included)."""
    from app import app

    report = {}
    with quiet_stdout():
        for name, event in cases.items():
            _forget_admin_hits()  # the admin limit (500 a minute) still counts each request, never refuses one
            _expect_ok(app, event)  # warm
            runs = [timed(partial(_expect_ok, app, event)) for _ in range(samples)]
            report[name] = {
                "p50_ms": percentile(runs, 0.5) * 1000,
                "p99_ms": percentile(runs, 0.99) * 1000,
            }
    return report


def _forget_admin_hits() -> None:
    from sqlalchemy import text

    from chalicelib.db.engine import transaction

    with transaction() as connection:
        connection.execute(text("DELETE FROM rate_limit_counters WHERE bucket = 'admin'"))


def sketch_errors(url: str, cases: dict[str, dict[str, Any]]) -> list[tuple[str, int, int, bool]]:
    """``(case, answered, exact, answer says exact)`` for the estimated unique-viewer figures."""
    import json

    from app import app

    exact_sql = {
        "busy video, all 120 days": "SELECT count(DISTINCT {key}) FROM video_views vw "
        "WHERE video_id = :video AND NOT is_team",
        "busy video, 30 days": "SELECT count(DISTINCT {key}) FROM video_views vw "
        "WHERE video_id = :video AND NOT is_team AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') "
        "AT TIME ZONE 'UTC' - interval '29 days'",
        "overview": "SELECT count(DISTINCT {key}) FROM video_views vw WHERE NOT is_team",
    }
    from chalicelib.domain.sketch import VIEWER_KEY_SQL

    connection = native_connection(url)
    found = []
    with quiet_stdout():
        for name, statement in exact_sql.items():
            event = cases[name]
            body = _expect_ok(app, event)
            answer = json.loads(body) if isinstance(body, str | bytes) else body
            video = int(event["pathParameters"]["video_id"]) if event.get("pathParameters") else 0
            exact = connection.run(statement.format(key=VIEWER_KEY_SQL.format(p="vw.")), video=video)[0][0]
            found.append((name, int(answer["uniqueViewers"]), int(exact), bool(answer["uniqueViewersExact"])))
    connection.close()
    return found


def bench_seed_approach(url: str, busy: int, samples: int) -> dict[str, float]:
    """The seed's aggregation (every view row into memory, counted in Python) beside ours."""
    from sqlalchemy import select

    from chalicelib.db.engine import session_scope
    from chalicelib.db.models import VideoView
    from chalicelib.services.analytics import reports

    def seed_way() -> None:
        with session_scope() as session:
            views = session.scalars(select(VideoView).where(VideoView.video_id == busy)).all()
            total = len(views)
            unique = len({view.user_id or view.ip_address for view in views})
            watch = sum(view.watch_time_seconds for view in views)
            completed = sum(1 for view in views if view.completed)
            _ = (unique, watch / total if total else 0, completed / total * 100 if total else 0)

    seed_runs = [timed(seed_way) for _ in range(samples)]
    ours = [timed(lambda: reports.aggregate_video(busy)) for _ in range(samples)]
    return {"seed_ms": statistics.median(seed_runs) * 1000, "ours_ms": statistics.median(ours) * 1000}


ROLLUPS = ("analytics_hours", "analytics_days", "analytics_referrers", "analytics_referrer_days", "analytics_totals")


def vacuum_rollups(url: str) -> None:
    """What autovacuum does after a fold of this size: statistics for the planner, and the
    visibility map that lets reports read the roll-ups' covering indexes without the heap.
    Said when the server runs with autovacuum off (as this machine's shared one does)."""
    connection = native_connection(url)
    autovacuum = connection.run("SHOW autovacuum")[0][0]
    started = time.perf_counter()
    connection.run(f"VACUUM ANALYZE {', '.join(ROLLUPS)}")
    connection.close()
    seconds = time.perf_counter() - started
    whose = "autovacuum's job, off on this server" if autovacuum == "off" else "as autovacuum would"
    print(f"VACUUM ANALYZE of the roll-ups ({whose}): {seconds:.1f} s")


def timed_refresh(settle: bool = False) -> tuple[float, Any]:
    """The scheduled refresh; ``settle``: fold every row, even those of the last minute."""
    from chalicelib.services.analytics import folding

    started = time.perf_counter()
    result = folding.refresh(budget_seconds=3600, **({"settle": timedelta(0)} if settle else {}))
    return time.perf_counter() - started, result


def track_tail(url: str, busy: int, views: int) -> None:
    """Views tracked since the last refresh (the tail every report also reads), through the entry point."""
    from app import app
    from scripts.apigw import proxy_event

    connection = native_connection(url)
    published = [row[0] for row in connection.run("SELECT id FROM videos WHERE is_published ORDER BY id")]
    connection.close()
    with quiet_stdout():
        for n in range(views):
            video = busy if n % 10 == 0 else published[n % len(published)]
            event = proxy_event(
                "POST", "/api/track/view", body={"videoId": video}, source_ip=f"10.9.{n // 250 % 250}.{n % 250 + 1}"
            )
            _expect_ok(app, event)


def bench_listing(url: str, samples: int) -> dict[str, dict[str, float]]:
    """``GET /api/videos?limit=100`` (public) with its stream and thumbnail URLs, signed warm (the
    per-window cache) and cold (every URL signed again), by S3 presigning and by CloudFront
    signing, beside the same listing with URL minting taken out; and an admin's, whose 100 videos
    carry their figures (totals plus the tail, one statement for the page)."""
    from app import app
    from chalicelib.adapters import url_signing
    from scripts.apigw import proxy_event

    connection = native_connection(url)
    connection.run("UPDATE videos SET is_published = true, thumbnail_key = 'thumbnails/' || id || '/poster.jpg'")
    connection.close()
    public = proxy_event("GET", "/api/videos", query={"limit": "100"})
    admin = proxy_event("GET", "/api/videos", query={"limit": "100"}, headers=_admin_headers(url))

    def measure(cold: bool, event: dict[str, Any] = public) -> dict[str, float]:
        def once() -> None:
            if cold:
                url_signing._s3_url.cache_clear()
                url_signing._cloudfront_url.cache_clear()
            _expect_ok(app, event)

        once()
        runs = [timed(once) for _ in range(samples)]
        return {"p50_ms": percentile(runs, 0.5) * 1000, "p99_ms": percentile(runs, 0.99) * 1000}

    report: dict[str, dict[str, float]] = {}
    with quiet_stdout():
        with _without_url_minting():
            report["without URLs"] = measure(cold=False)
            report["admin, with figures, no URLs"] = measure(cold=False, event=admin)
        report["S3 presigned, warm"] = measure(cold=False)
        report["S3 presigned, cold"] = measure(cold=True)
        with _cloudfront_signing():
            report["CloudFront signed (ECDSA), warm"] = measure(cold=False)
            report["CloudFront signed (ECDSA), cold"] = measure(cold=True)
    return report


@contextlib.contextmanager
def _without_url_minting() -> Iterator[None]:
    from chalicelib.adapters import url_signing

    original = url_signing.signed_url
    fixed = url_signing.SignedUrl("https://media.example/x", datetime.now(UTC))

    def unsigned(key: str, *, now: float | None = None) -> url_signing.SignedUrl:
        return fixed

    url_signing.signed_url = unsigned
    try:
        yield
    finally:
        url_signing.signed_url = original


@contextlib.contextmanager
def _cloudfront_signing() -> Iterator[None]:
    """A CDN configured, its ECDSA P-256 key in a (moto) Secrets Manager, read once as at cold start."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from moto import mock_aws

    from chalicelib.adapters import secrets, url_signing
    from chalicelib.adapters.aws import client, reset_clients
    from chalicelib.config import get_settings

    settings = {
        "VIDEO_STREAM_CDN_DOMAIN": "d111111abcdef8.cloudfront.net",
        "VIDEO_STREAM_KEY_PAIR_ID": "K2JCJMDEHXQW5F",
        "VIDEO_STREAM_PRIVATE_KEY_SECRET": "bench/stream-key",
    }
    with mock_aws():
        reset_clients()
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        client("secretsmanager").create_secret(
            Name=settings["VIDEO_STREAM_PRIVATE_KEY_SECRET"], SecretString=pem.decode()
        )
        os.environ.update(settings)
        get_settings.cache_clear()
        secrets.reset_cache()
        url_signing.reset()
        try:
            yield
        finally:
            for name in settings:
                os.environ.pop(name, None)
            get_settings.cache_clear()
            url_signing.reset()
            reset_clients()


# --- report ------------------------------------------------------------------------------


def machine() -> str:
    import platform

    cpu = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def cold_imports(runs: int) -> dict[str, float]:
    """Median import time, in a fresh interpreter, of each function's entry module."""
    import subprocess

    probe = "import time; started = time.perf_counter(); import {module}; print(time.perf_counter() - started)"
    found = {}
    for module in ("app", "chalicelib.entry.tracking"):
        seconds = [
            float(
                subprocess.run(
                    [sys.executable, "-c", probe.format(module=module)], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(runs)
        ]
        found[module] = statistics.median(seconds) * 1000
    return found


def _tracking_in_own_container(url: str, requests: int) -> dict[str, dict[str, float]]:
    """:func:`bench_tracking` in a fresh interpreter, as in the tracking function's own Lambda container,
    which imports its handler only, never the whole app (nor could one process hold both: a Chalice
    blueprint registers in one app only)."""
    import json
    import subprocess

    call = (
        "import json, sys; from scripts.bench import bench_tracking as b; "
        "print(json.dumps(b(sys.argv[1], int(sys.argv[2]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", call, url, str(requests)], stdout=subprocess.PIPE, text=True, check=True
    )
    found: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def report_tracking(url: str, requests: int, samples: int) -> None:
    imports = cold_imports(runs=min(COLD_IMPORT_RUNS, samples))
    print(
        f"\n1. Tracking ({requests} requests x {ROUNDS} rounds, interleaved, one container, median of rounds); "
        f"cold import: the tracking function's handler {imports['chalicelib.entry.tracking']:.0f} ms, "
        f"the whole app {imports['app']:.0f} ms"
    )
    tracking = _tracking_in_own_container(url, requests)
    plain, prepared = tracking["bare pg8000 INSERT (run)"], tracking["bare pg8000 INSERT (prepared)"]
    for name, figures in tracking.items():
        _line(name if name.startswith("bare") else f"POST /api/track/{name}", figures)
    for name in ("view", "heartbeat"):
        figures = tracking[name]
        print(
            f"   {name}: {figures['p50_ms'] / plain['p50_ms']:.2f}x a bare INSERT (p50), "
            f"{figures['p50_ms'] / prepared['p50_ms']:.2f}x a prepared one"
        )


def report_retention(days: int) -> None:
    """Retention at half the seeded history, so that whole months go: they are dropped, not deleted."""
    from chalicelib.config import get_settings
    from chalicelib.services.analytics import retention

    keep = days // 2
    os.environ["VIDEO_ANALYTICS_RETENTION_DAYS"] = str(keep)
    get_settings.cache_clear()
    started = time.perf_counter()
    result = retention.run()
    seconds = time.perf_counter() - started
    print(
        f"\n6. Retention ({keep} days): dropped {', '.join(result.partitions_dropped) or 'no partition'}, "
        f"deleted {result.views_deleted:,} views and {result.events_deleted:,} events row by row, in {seconds:.2f} s"
    )


def report_sketches(url: str, cases: dict[str, dict[str, Any]]) -> None:
    print("\n3. Unique viewers: answered against an exact count over raw rows")
    for name, answered, exact, says_exact in sketch_errors(url, cases):
        error = (answered - exact) / exact * 100 if exact else 0.0
        kind = "exact" if says_exact else "estimated"
        print(f"   {name:<32} {answered:>10,} vs {exact:>10,}   error {error:+.2f}% ({kind})")


def report_breakdown_sketches(url: str, cases: dict[str, dict[str, Any]]) -> None:
    errors = breakdown_sketch_errors(url, cases)
    print("   unique viewers per country (breakdowns), answered against exact counts:")
    for name in dict.fromkeys(name for name, *_ in errors):
        rows = [(answered - exact) / exact * 100 for case, _, answered, exact in errors if case == name and exact]
        largest = max(rows, key=abs, default=0.0)
        print(f"   {name:<38} {len(rows)} countries, largest error {largest:+.2f}%")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--views", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--tail-views", type=int, default=1000, help="views tracked after the last refresh")
    parser.add_argument("--busy-share", type=float, default=0.1, help="share of the views on the busiest video")
    parser.add_argument("--requests", type=int, default=1000, help="tracking requests per round")
    parser.add_argument(
        "--samples", type=int, default=25, help="runs of each analytics query (and, up to 7, of each cold import)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-seed-way", action="store_true", help="skip 4. (a minute a run at 10M)")
    parser.add_argument("--no-player", action="store_true", help="skip 7. (a ladder and a browser: a minute or two)")
    parser.add_argument("--no-media", action="store_true", help="skip 8. (ladders of three clips: a minute or two)")
    parser.add_argument("--media-seconds", type=int, default=10, help="length of each of 8.'s clips")
    parser.add_argument("--database", default=BENCH_DB, help="the database to create (or reuse)")
    parser.add_argument("--reuse", action="store_true", help="measure again on a kept database (no seed, no fold)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    _bench_environment()
    server = server_url()
    url = with_database(server, args.database) if args.reuse else create_database(server, args.database)
    os.environ["DATABASE_URL"] = url
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    try:
        server_version = native_connection(url).run("SHOW server_version")[0][0]
        print(f"media-api bench  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {machine()}  PostgreSQL {server_version}")
        if args.reuse:
            migrate(url)
            raw_intact = describe_kept(url)
            seconds, refreshed = timed_refresh()
            print(f"folding what it had not folded ({refreshed.steps} steps): {seconds:.1f} s")
            vacuum_rollups(url)
        else:
            seed_and_fold(url, args)
            raw_intact = True
        measure(url, args, build_zones=not args.reuse, raw_intact=raw_intact)
    finally:
        if not args.keep and not args.reuse:
            drop_database(server, args.database)
    return 0


def seed_and_fold(url: str, args: argparse.Namespace) -> None:
    loaded = seed(url, args.videos, args.views, args.events, args.days, args.busy_share)
    print(
        f"seeded {args.videos:,} videos, {args.views:,} views, {args.events:,} events over {args.days} days: "
        f"COPY {loaded['load_seconds']:.1f} s, with indexes + VACUUM ANALYZE {loaded['total_seconds']:.1f} s"
    )
    seconds, refreshed = timed_refresh()
    print(
        f"first scheduled refresh ({refreshed.steps} steps of up to a week, into hours, UTC days and "
        f"totals): {seconds:.1f} s"
    )
    vacuum_rollups(url)


def describe_kept(url: str) -> bool:
    """Say what a reused database holds; drop requests for extra zones not yet built (each takes about
    as long as the first fold; their cases are then answered from hours), but never UTC's, whose days
    every default report reads. True while no raw month was dropped."""
    connection = native_connection(url)
    views = connection.run("SELECT count(*) FROM video_views")[0][0]
    state = dict(connection.run("SELECT name, at FROM analytics_state"))
    connection.run("DELETE FROM analytics_zones WHERE materialized_at IS NULL AND zone <> 'UTC'")
    zones = [
        row[0]
        for row in connection.run("SELECT zone FROM analytics_zones WHERE materialized_at IS NOT NULL ORDER BY zone")
    ]
    connection.close()
    print(
        f"reusing a kept database: {views:,} raw views, folded until {state.get('folded_until')}, "
        f"zones built: {', '.join(zones) or 'none'}"
    )
    return "raw_kept_from" not in state


def measure(url: str, args: argparse.Namespace, *, build_zones: bool, raw_intact: bool) -> None:
    busy, busy_views, typical, typical_views = busy_and_typical(url)
    cases = analytics_cases(url, busy, typical)
    if build_zones:
        from app import app

        with quiet_stdout():  # the first report in a zone asks the refresh to keep its days
            for name in ("busy video, 30 days, Kolkata", "overview, New York"):
                _expect_ok(app, cases[name])
        seconds, refreshed = timed_refresh()
        print(f"building the days of 2 more zones ({refreshed.days_written} days): {seconds:.1f} s")
        vacuum_rollups(url)

    report_tracking(url, args.requests, args.samples)
    seconds, _ = timed_refresh(settle=True)
    print(f"   a scheduled refresh folding them: {seconds:.2f} s")
    track_tail(url, busy, args.tail_views)
    print(
        f"\n2. Analytics (p50/p99 of {args.samples} runs; busy video {busy}: {busy_views:,} views, "
        f"typical video {typical}: {typical_views:,} views; {args.tail_views:,} views tracked since the last "
        "refresh, 10% of them on the busy video)"
    )
    for name, figures in bench_analytics(cases, args.samples).items():
        print(f"   {name:<32} p50 {figures['p50_ms']:8.1f} ms   p99 {figures['p99_ms']:8.1f} ms")
    if raw_intact:
        report_sketches(url, cases)
        report_breakdown_sketches(url, cases)
    else:
        print("\n3. Unique viewers: not compared (retention has dropped raw months of this database)")
    if args.no_seed_way:
        print("\n4. Seed approach: skipped (--no-seed-way)")
    else:
        seed_figures = bench_seed_approach(url, busy, max(5, args.samples // 5))
        print(f"\n4. Seed approach on the busy video ({busy_views:,} views)")
        print(
            f"   rows into Python and count: {seed_figures['seed_ms']:.1f} ms; roll-ups: "
            f"{seed_figures['ours_ms']:.1f} ms; {seed_figures['seed_ms'] / seed_figures['ours_ms']:.1f}x faster"
        )
    print(f"\n5. Listing 100 videos, public (p50/p99 of {args.samples} runs; 200 signed URLs per answer)")
    for name, figures in bench_listing(url, args.samples).items():
        print(f"   {name:<32} p50 {figures['p50_ms']:8.1f} ms   p99 {figures['p99_ms']:8.1f} ms")
    report_retention(args.days)
    if args.no_player:
        print("\n7. Player: skipped (--no-player)")
    else:
        from scripts.bench_player import report_player

        report_player(url)
    if args.no_media:
        print("\n8. Media: skipped (--no-media)")
    else:
        from scripts.bench_media import report_media

        report_media(args.media_seconds)


def _line(name: str, figures: dict[str, float]) -> None:
    print(
        f"   {name:<32} {figures['rate']:8.0f} req/s   p50 {figures['p50_ms']:6.3f} ms   "
        f"p99 {figures['p99_ms']:6.3f} ms"
    )


def _bench_environment() -> None:
    """Secrets for an in-process run; real deployments set their own."""
    os.environ.setdefault("JWT_ACCESS_SECRET", "bench-jwt-secret-0123456789abcdef0123456789")
    os.environ.setdefault("VIDEO_ANALYTICS_IP_HASH_SECRET", "bench-ip-hash-secret")
    os.environ.setdefault("VIDEO_VIEW_TOKEN_SECRET", "bench-view-token-secret")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # The bench runs the refresh in-process, whose function waits 240 s on a statement (.chalice/config.json):
    # folding one day of a 10M library takes longer than the API's 10 s.
    os.environ.setdefault("DATABASE_TIMEOUT_SECONDS", "240")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")  # S3 presigning is local, but it needs credentials
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")


if __name__ == "__main__":
    sys.exit(main())
