"""Breakdowns and quality of experience on hand-built views in real PostgreSQL, compared with SQL over the raw rows.

Each comparison runs on raw rows only (nothing folded: all tail) and after the refresh folded
everything (roll-ups), and with views at the ragged ends of a local day of another zone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import metrics
from chalicelib.domain.sketch import BREAKDOWNS, SCOPES, Sketch
from tests.support.analytics import add_view, refresh, report
from tests.support.database import sql

NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)
COUNTRIES = ("DE", "FR", "US", None)
DEVICES = ("desktop", "mobile", "tablet")
BROWSERS = ("Chrome", "Firefox", "Safari")
REFERRERS = ("https://news.example/a", "https://Blog.example:8443/b?q=1", None)
# What SQL over the raw rows says each metric is, per value of a dimension's expression.
EXPECTED = {
    "views": "count(*)",
    "uniqueViewers": "count(DISTINCT COALESCE('u:' || vw.user_id::text, 'i:' || vw.ip_address, 'v:' || vw.id::text))",
    "watchTime": "sum(vw.watch_time_seconds)",
    "completionRate": "round(count(*) FILTER (WHERE vw.completed) * 100.0 / count(*), 2)",
    "plays": "count(*) FILTER (WHERE vw.qoe_at IS NOT NULL)",
}


def add_views(video_id: int, count: int, *, start: datetime = NOW, step: timedelta = timedelta(minutes=7)) -> None:
    """``count`` views cycling through countries, devices, browsers, referrers, viewers and QoE outcomes."""
    for n in range(count):
        played = n % 5 != 4
        add_view(
            video_id,
            watch=10 + n % 40,
            completed=n % 3 == 0,
            user_id=None,
            ip=f"ip{n % 11}",
            referer=REFERRERS[n % 3],
            at=start - step * n,
            country=COUNTRIES[n % 4],
            device_type=DEVICES[n % 3],
            browser=BROWSERS[(n // 2) % 3],
            os="Linux" if n % 2 else "Windows",
            qoe_at=start - step * n if played else None,
            startup_time_ms=(80 + 37 * n) if played and n % 7 else None,
            rebuffer_count=n % 4 if played else None,
            rebuffer_ms=250 * (n % 4) if played else None,
            error_code="MEDIA_ERR_DECODE" if played and n % 13 == 6 else None,
        )


def breakdown(client: Any, headers: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    return report(client, headers, path, **params)


def expected_rows(video_id: int | None, dimension: str, metric: str, start: datetime, end: datetime) -> list[Any]:
    expression = next(item.expression for item in metrics.DIMENSIONS if item.name == dimension)
    scope = "" if video_id is None else f"AND vw.video_id = {video_id}"
    rows = sql(
        f"""SELECT NULLIF(COALESCE(CAST({expression} AS text), ''), '') AS value, {EXPECTED[metric]} AS figure
            FROM video_views vw WHERE NOT vw.is_team AND vw.created_at >= :start AND vw.created_at < :end {scope}
              AND vw.device_type IS DISTINCT FROM 'bot'
            GROUP BY 1""",
        start=start,
        end=end,
    )
    return sorted(
        ({"value": row.value, metric: float(row.figure) if metric == "completionRate" else int(row.figure)}
         for row in rows),
        key=lambda row: (-row[metric], row["value"] is None, row["value"] or ""),
    )  # fmt: skip


@pytest.mark.parametrize("dimension", [item.name for item in metrics.DIMENSIONS])
def test_each_dimension_and_metric_matches_sql_over_the_raw_rows(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None], dimension: str
) -> None:
    add_views(video["id"], 60)
    add_view(video["id"], watch=99, country="DE", device_type="bot")  # a spider: in no figure
    add_view(video["id"], watch=99, country="DE", team=True)  # a team view: only with includeTeam
    settle()
    everything = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    for metric in EXPECTED:
        path = f"/api/videos/{video['id']}/analytics/breakdown"
        body = breakdown(client, admin_headers, path, by=dimension, metric=metric)
        assert (body["by"], body["metric"]) == (dimension, metric)
        assert body["rows"] == expected_rows(video["id"], dimension, metric, *everything), metric
        library = breakdown(client, admin_headers, "/api/videos/analytics/breakdown", by=dimension, metric=metric)
        assert library["rows"] == expected_rows(None, dimension, metric, *everything), metric
    assert set(body["definitions"]) >= {"by", "value", "plays", "views", "points", "asOf"}
    team = breakdown(client, admin_headers, path, by="country", includeTeam="true")
    assert next(row for row in team["rows"] if row["value"] == "DE")["views"] == 16


def test_local_days_of_another_zone_count_their_ragged_ends_from_raw_rows(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    """A Tokyo day is 15:00-15:00 UTC: the roll-ups' whole UTC days do not hold it, raw rows fill the ends."""
    add_views(video["id"], 90, start=NOW, step=timedelta(minutes=53))
    settle()
    tokyo = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).date() - timedelta(days=1)
    start = datetime.combine(tokyo, datetime.min.time(), tzinfo=UTC) - timedelta(hours=9)
    end = start + timedelta(days=1)
    path = f"/api/videos/{video['id']}/analytics/breakdown"
    for metric in ("views", "uniqueViewers", "watchTime"):
        body = breakdown(
            client, admin_headers, path, by="device", metric=metric, tz="Asia/Tokyo",
            startDate=tokyo.isoformat(), endDate=tokyo.isoformat(),
        )  # fmt: skip
        assert (body["startDate"], body["endDate"], body["tz"]) == (tokyo.isoformat(),) * 2 + ("Asia/Tokyo",)
        assert body["rows"] == expected_rows(video["id"], "device", metric, start, end)


def exact_qoe(video_id: int) -> dict[str, Any]:
    row = sql(
        """SELECT count(*) FILTER (WHERE qoe_at IS NOT NULL) AS plays,
                  percentile_disc(0.5) WITHIN GROUP (ORDER BY startup_time_ms) AS p50,
                  percentile_disc(0.95) WITHIN GROUP (ORDER BY startup_time_ms) AS p95,
                  sum(rebuffer_ms) FILTER (WHERE qoe_at IS NOT NULL) / 1000.0
                    / sum(watch_time_seconds) FILTER (WHERE qoe_at IS NOT NULL) AS rebuffer_ratio,
                  sum(rebuffer_count) FILTER (WHERE qoe_at IS NOT NULL) * 3600.0
                    / sum(watch_time_seconds) FILTER (WHERE qoe_at IS NOT NULL) AS per_hour,
                  count(*) FILTER (WHERE error_code IS NOT NULL) * 1.0
                    / count(*) FILTER (WHERE qoe_at IS NOT NULL) AS failures,
                  count(*) FILTER (WHERE qoe_at IS NOT NULL AND startup_time_ms IS NULL AND error_code IS NULL) * 1.0
                    / count(*) FILTER (WHERE qoe_at IS NOT NULL) AS exits
           FROM video_views WHERE video_id = :v AND NOT is_team""",
        v=video_id,
    )[0]
    return dict(row._mapping)


def assert_within_bucket(estimate: int, exact: int) -> None:
    """The histogram's promise (definitions): within ~10 %, or 50 ms below 100 ms."""
    assert abs(estimate - exact) <= max(50, math.ceil(exact * (math.sqrt(metrics.STARTUP_GROWTH) - 1))), (
        estimate,
        exact,
    )


def test_reports_carry_qoe_totals_and_points_equal_to_sql(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    add_views(video["id"], 70, step=timedelta(minutes=41))
    settle()
    exact = exact_qoe(video["id"])
    for params in ({}, {"tz": "Asia/Kolkata"}, {"interval": "hour"}):
        body = report(client, admin_headers, f"/api/videos/{video['id']}/analytics", **params)
        qoe = body["qoe"]
        assert qoe["plays"] == exact["plays"]
        assert qoe["rebufferRatio"] == round(float(exact["rebuffer_ratio"]), 4)
        assert qoe["rebuffersPerHour"] == round(float(exact["per_hour"]), 2)
        assert qoe["playbackFailureRate"] == round(float(exact["failures"]), 4)
        assert qoe["exitsBeforeStartRate"] == round(float(exact["exits"]), 4)
        assert_within_bucket(qoe["startupTimeP50Ms"], exact["p50"])
        assert_within_bucket(qoe["startupTimeP95Ms"], exact["p95"])
        points = qoe["byHour"] if params.get("interval") else qoe["byDay"]
        assert len(points) == len(body["viewsByHour"] or body["viewsByDay"])
        assert sum(point["plays"] for point in points) == exact["plays"]
        assert all(set(metrics.derive_all({}, metrics.qoe_metrics())) < set(point) for point in points)
    assert set(body["definitions"]) >= {item.name for item in metrics.qoe_metrics()}
    overview = report(client, admin_headers, "/api/videos/analytics/overview")
    assert overview["qoe"]["plays"] == exact["plays"] and len(overview["qoe"]["byDay"]) == 30


def test_a_video_without_measurements_has_nulls_not_zeros(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], settle: Callable[[], None]
) -> None:
    add_view(video["id"], watch=30)
    settle()
    qoe = report(client, admin_headers, f"/api/videos/{video['id']}/analytics")["qoe"]
    assert qoe["plays"] == 0
    assert [qoe[name] for name in ("startupTimeP50Ms", "rebufferRatio", "playbackFailureRate")] == [None] * 3


def test_many_views_estimate_unique_viewers_per_value_from_sketches(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the exact-count limit each value's viewers are merged from day sketches and raw keys: within 2 %."""
    from chalicelib.services.analytics import breakdowns

    sql(
        """INSERT INTO video_views (video_id, ip_address, watch_time_seconds, completed, created_at, country)
           SELECT :v, 'ip' || mod(n, 1500), 5, false, now() - make_interval(mins => mod(n, 4000)),
                  (CAST('{DE,FR,US}' AS text[]))[mod(n, 3) + 1]
           FROM generate_series(1, 6000) AS n""",
        v=video["id"],
    )
    refresh()
    add_view(video["id"], ip="fresh-viewer", country="DE")  # in the tail
    monkeypatch.setattr(breakdowns, "EXACT_VIEWS_LIMIT", 0)
    body = breakdown(
        client, admin_headers, f"/api/videos/{video['id']}/analytics/breakdown", by="country", metric="uniqueViewers"
    )
    exact = {row["value"]: row["uniqueViewers"] for row in expected_rows(
        video["id"], "country", "uniqueViewers", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )}  # fmt: skip
    assert {row["value"] for row in body["rows"]} == set(exact)
    for row in body["rows"]:
        assert abs(row["uniqueViewers"] - exact[row["value"]]) <= 0.02 * exact[row["value"]], row
    assert "estimated with HyperLogLog" in body["definitions"]["uniqueViewers"]
    since = (datetime.now(UTC) - timedelta(days=1)).date()  # not all time: one sketch per value and day
    body = breakdown(
        client, admin_headers, f"/api/videos/{video['id']}/analytics/breakdown", by="country",
        metric="uniqueViewers", startDate=since.isoformat(),
    )  # fmt: skip
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    exact = {row["value"]: row["uniqueViewers"] for row in expected_rows(
        video["id"], "country", "uniqueViewers", start, datetime(2100, 1, 1, tzinfo=UTC)
    )}  # fmt: skip
    assert {row["value"] for row in body["rows"]} == set(exact)
    for row in body["rows"]:
        assert abs(row["uniqueViewers"] - exact[row["value"]]) <= 0.02 * exact[row["value"]], row


def test_resetting_a_video_takes_its_views_out_of_the_library_breakdown(
    client: Any, admin_headers: dict[str, str], create_video: Any
) -> None:
    kept, reset = create_video(published=True), create_video(published=True)
    add_views(kept["id"], 8)
    add_views(reset["id"], 12)
    refresh()
    response = client.http.post(f"/api/videos/{reset['id']}/reset-analytics", headers=admin_headers, body=b"{}")
    assert response.status_code == 200, response.body
    body = breakdown(client, admin_headers, "/api/videos/analytics/breakdown", by="device")
    assert body["rows"] == expected_rows(
        None, "device", "views", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert sum(row["views"] for row in body["rows"]) == 8


def test_history_folded_before_the_breakdown_rollups_is_backfilled(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    """Migration 0013 on a deployment with folded history: the next refreshes fold it a day per step."""
    add_views(video["id"], 40, step=timedelta(hours=3))
    refresh()
    oldest = sql("SELECT date_trunc('hour', min(created_at)) FROM video_views")[0][0]
    sql("DELETE FROM analytics_breakdown_days")
    sql("DELETE FROM analytics_measure_hours")
    sql("INSERT INTO analytics_state (name, at) VALUES ('breakdowns_backfill', :at)", at=oldest)
    refresh()
    assert sql("SELECT count(*) FROM analytics_state WHERE name = 'breakdowns_backfill'")[0][0] == 0
    path = f"/api/videos/{video['id']}/analytics/breakdown"
    body = breakdown(client, admin_headers, path, by="country", metric="watchTime")
    assert body["rows"] == expected_rows(
        video["id"], "country", "watchTime", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    hourly = report(client, admin_headers, f"/api/videos/{video['id']}/analytics", tz="Europe/Berlin")
    assert hourly["qoe"]["plays"] == exact_qoe(video["id"])["plays"]


def _stored_at_14_bits(table: str, keys: str) -> int:
    """Every breakdown sketch of ``table`` rewritten as the 14-bit one stored before migration 0018."""
    rows = sql(f"SELECT {keys}, sketch FROM {table} WHERE sketch IS NOT NULL")
    for row in rows:
        older = Sketch.decode(bytes(row.sketch)).folded_to(SCOPES.bits).encode()
        match = " AND ".join(f"{key} = :{key}" for key in keys.split(", "))
        sql(f"UPDATE {table} SET sketch = :older WHERE {match}", older=older, **row._asdict())
    return len(rows)


def test_breakdown_sketches_of_14_bits_are_refolded_at_16_and_answer_meanwhile(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0018 on a deployment whose breakdown sketches have 14 bits: it empties the all-time sketches
    (every raw view is kept) and asks for a refold; until the refresh has done it, a breakdown of all time
    merges the values' 14-bit day sketches (never the half-filled all-time ones); then every sketch has 16
    bits and the answers stay within 2 %."""
    import runpy

    from chalicelib.services.analytics import breakdowns

    sql(
        """INSERT INTO video_views (video_id, ip_address, watch_time_seconds, created_at, country)
           SELECT :v, 'ip' || mod(n, 5000), 5, now() - make_interval(hours => 2, mins => mod(n * 7, 4000)),
                  (CAST('{DE,FR,US}' AS text[]))[mod(n, 3) + 1]
           FROM generate_series(1, 6000) AS n""",
        v=video["id"],
    )
    refresh()
    assert _stored_at_14_bits("analytics_breakdown_days", "scope_id, dimension, day, team, value") > 0
    assert _stored_at_14_bits("analytics_breakdown_totals", "scope_id, dimension, team, value") > 0
    migration = runpy.run_path("migrations/versions/0018_breakdown_sketches_16_bits.py")
    sql(f"DELETE FROM analytics_breakdown_totals WHERE {migration['_EVERY_RAW_VIEW_KEPT']}")
    sql(migration["_REFOLD"])
    monkeypatch.setattr(breakdowns, "EXACT_VIEWS_LIMIT", 0)
    path = f"/api/videos/{video['id']}/analytics/breakdown"
    everything = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    exact = {
        row["value"]: row["uniqueViewers"]
        for row in expected_rows(video["id"], "country", "uniqueViewers", *everything)
    }

    def within_two_percent() -> None:
        rows = breakdown(client, admin_headers, path, by="country", metric="uniqueViewers")["rows"]
        assert {row["value"]: row["uniqueViewers"] for row in rows}.keys() == exact.keys()
        for row in rows:
            assert abs(row["uniqueViewers"] - exact[row["value"]]) <= 0.02 * exact[row["value"]], row

    add_view(video["id"], ip="fresh-viewer", country="DE")  # a viewer of the tail too
    exact["DE"] += 1
    within_two_percent()  # the 14-bit days, all-time sketches empty
    refresh()
    assert sql("SELECT count(*) FROM analytics_state WHERE name = 'breakdowns_backfill'")[0][0] == 0
    stored = sql(
        "SELECT get_byte(sketch, 0) FROM analytics_breakdown_days WHERE sketch IS NOT NULL "
        "UNION ALL SELECT get_byte(sketch, 0) FROM analytics_breakdown_totals"
    )
    assert {row[0] for row in stored} <= {BREAKDOWNS.sparse_tag, BREAKDOWNS.dense_tag}
    assert sql("SELECT count(*) FROM analytics_breakdown_totals WHERE dimension = 'country'")[0][0] >= 3
    within_two_percent()


def test_a_steady_refresh_merges_new_viewers_into_its_day_as_a_rebuild_would(video: dict[str, Any]) -> None:
    """A refresh each minute keeps its day's sketches and merges the new views' viewers into them, and
    recomputes the day's measures (a late heartbeat raised one): the day's rows come out byte for byte
    as a rebuild of the whole day from raw views writes them, sparse and dense sketches alike."""
    from chalicelib.db.engine import transaction
    from chalicelib.repositories.analytics import breakdowns

    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    sql(
        """INSERT INTO video_views (video_id, ip_address, watch_time_seconds, completed, created_at, country, browser)
           SELECT :v, 'ip' || mod(n, 18000), mod(n, 50), mod(n, 4) = 0,
                  CAST(:day AS timestamptz) + make_interval(mins => mod(n * 7, 1380)),
                  (CAST('{DE,FR,US}' AS text[]))[mod(n, 3) + 1], CASE WHEN n > 15000 THEN 'Firefox' END
           FROM generate_series(1, 18000) AS n""",
        v=video["id"],
        day=day,
    )
    noon, late = day + timedelta(hours=12), day + timedelta(hours=23)

    def day_rows() -> list[Any]:
        return sql(
            "SELECT * FROM analytics_breakdown_days WHERE day = :day ORDER BY scope_id, dimension, team, value",
            day=day.date(),
        )

    with transaction() as connection:
        breakdowns.fold(connection, day, noon)
    late_heartbeat = "watch_time_seconds = watch_time_seconds + 100 WHERE created_at < :noon AND ip_address = 'ip7'"
    sql(f"UPDATE video_views SET {late_heartbeat}", noon=noon)
    with transaction() as connection:
        breakdowns.fold(connection, noon, late, day_so_far_folded=True)
    merged = day_rows()
    with transaction() as connection:
        breakdowns.fold(connection, day, late)
    rebuilt = day_rows()

    assert merged == rebuilt
    sketches = [bytes(row.sketch) for row in rebuilt if row.sketch is not None]
    # 16 bits: sparse (Firefox's 3,000 viewers) and dense (each country's 6,000, all browsers)
    assert {sketch[0] for sketch in sketches} == {BREAKDOWNS.sparse_tag, BREAKDOWNS.dense_tag}
    assert sum(row.views for row in rebuilt if row.dimension == "" and row.scope_id == 0) == 18000
