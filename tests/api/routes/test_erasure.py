"""``DELETE /api/analytics/viewers/{userId}``: a person's views and events are deleted, every roll-up they were
in is corrected, and every report then shows exactly what the rows left give: the same answers as roll-ups
folded from scratch over those rows, and the same totals as counting them in SQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.analytics import refresh, report, without_freshness
from tests.support.api import token_for
from tests.support.database import make_user, sql
from tests.support.logs import service_log

ZONE = "America/New_York"
ROLLUPS = (
    "analytics_hours",
    "analytics_days",
    "analytics_totals",
    "analytics_referrers",
    "analytics_referrer_days",
    "analytics_audience_days",
    "analytics_measure_hours",
    "analytics_breakdown_days",
    "analytics_breakdown_totals",
    "analytics_breakdown_blocks",
)


@pytest.fixture(autouse=True)
def kept_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Days are kept in UTC and New York (the setting where zones are configured, the first report elsewhere)."""
    from chalicelib.config import get_settings

    monkeypatch.setenv("VIDEO_ANALYTICS_TIME_ZONES", ZONE)
    get_settings.cache_clear()


@pytest.fixture
def people() -> dict[str, int]:
    return {name: make_user(role="USER", name=name) for name in ("ana", "ben", "cy")}


def add(video: int, at: datetime, *, user: int | None = None, ip: str | None = None, **row: Any) -> int:
    """A view as tracking leaves it, with its events (``events``: ``(type, minutes after the view)``)."""
    [(view_id,)] = sql(
        """INSERT INTO video_views (video_id, user_id, consented, ip_address, referer, watch_time_seconds, completed,
                                    is_team, played, last_seen_at, created_at)
           VALUES (:video, :user, CAST(:user AS int) IS NOT NULL, :ip, :referer, :watch, :completed, :team,
                   CAST(:played AS bit(100)), CAST(:at AS timestamptz) + make_interval(secs => :watch),
                   CAST(:at AS timestamptz)) RETURNING id""",
        video=video,
        user=user,
        ip=ip,
        referer=row.get("referer"),
        watch=row.get("watch", 0),
        completed=row.get("completed", False),
        team=row.get("team", False),
        played=row.get("played", "1" * 30 + "0" * 70),
        at=at,
    )
    for kind, minutes in row.get("events", ()):
        sql(
            """INSERT INTO video_events (video_id, view_id, event_type, timestamp, is_team, created_at)
               VALUES (:video, :view, :kind, 1, :team, :at)""",
            video=video,
            view=view_id,
            kind=kind,
            team=row.get("team", False),
            at=at + timedelta(minutes=minutes),
        )
    return int(view_id)


def library(videos: list[int], people: dict[str, int]) -> None:
    """Views over four days: folded days, hours within the progress window, and a tail after the last fold."""
    now = datetime.now(UTC).replace(microsecond=0)
    ana, ben, cy = people["ana"], people["ben"], people["cy"]
    first, second = videos
    for days_ago in (3, 1):
        at = now - timedelta(days=days_ago, hours=2)
        add(
            first,
            at,
            user=ana,
            watch=90,
            completed=True,
            referer="https://blog.example/a",
            events=[("play", 0), ("complete", 2)],
        )
        add(
            first, at + timedelta(minutes=5), user=ben, watch=40, referer="https://blog.example/a", events=[("play", 0)]
        )
        add(first, at + timedelta(minutes=7), ip="a" * 64, watch=12, referer="https://news.example/", played="1" * 100)
        add(second, at + timedelta(minutes=9), user=ana, watch=30, events=[("play", 0), ("pause", 1)])
        add(second, at + timedelta(minutes=11), user=cy, watch=55, completed=True, events=[("complete", 3)])
        add(first, at + timedelta(minutes=13), user=ana, watch=5, team=True)  # a team view of hers
    add(first, now - timedelta(hours=3), user=ana, watch=20, events=[("pause", 1)])
    add(second, now - timedelta(hours=3), ip="b" * 64, watch=70, completed=True)


def tail(videos: list[int], people: dict[str, int]) -> datetime:
    """Views after the last fold: raw rows the reports read as they are. Returns when they start."""
    now = datetime.now(UTC)
    add(videos[0], now, user=people["ana"], watch=3, events=[("play", 0)])
    add(videos[1], now, user=people["ben"], watch=4)
    return now


def reports(client: Any, headers: dict[str, str], videos: list[int]) -> dict[str, Any]:
    """Every report, by path and parameters, without its freshness stamp."""
    today = datetime.now(UTC).date()
    span = {"startDate": (today - timedelta(days=5)).isoformat(), "endDate": today.isoformat()}
    answers: dict[str, Any] = {}
    for video in videos:
        for team in ("false", "true"):
            for tz in ("UTC", ZONE):
                path = f"/api/videos/{video}/analytics"
                answers[f"{path} {tz} {team}"] = report(client, headers, path, tz=tz, includeTeam=team, **span)
            hourly = f"/api/videos/{video}/analytics"
            answers[f"{hourly} hour {team}"] = report(
                client, headers, hourly, interval="hour", includeTeam=team, **span
            )
            answers[f"{video} retention {team}"] = report(
                client, headers, f"/api/videos/{video}/analytics/retention", includeTeam=team, **span
            )
            answers[f"{video} viewers {team}"] = report(
                client, headers, f"/api/videos/{video}/analytics/viewers", includeTeam=team
            )
    for team in ("false", "true"):
        for metric in ("views", "watchTime"):
            answers[f"top {metric} {team}"] = report(
                client, headers, "/api/videos/analytics/top", metric=metric, includeTeam=team
            )
        for tz in ("UTC", ZONE):
            answers[f"overview {tz} {team}"] = report(
                client, headers, "/api/videos/analytics/overview", tz=tz, includeTeam=team
            )
    for path in [f"/api/videos/{video}/analytics/breakdown" for video in videos] + ["/api/videos/analytics/breakdown"]:
        for metric in ("views", "uniqueViewers", "watchTime"):
            for tz in ("UTC", ZONE):
                answers[f"{path} {metric} {tz}"] = report(
                    client, headers, path, by="referrerHost", metric=metric, tz=tz, includeTeam="true", **span
                )
    answers["list"] = report(client, headers, "/api/videos", published="true")
    return {name: _without_stamps(answer) for name, answer in answers.items()}


def _without_stamps(answer: Any) -> Any:
    """An answer without what moves with the clock (asOf, signed URLs and their expiry)."""
    if isinstance(answer, dict):
        answer = without_freshness(answer)
        return {
            key: _without_stamps(value)
            for key, value in answer.items()
            if key not in ("streamUrl", "streamUrlExpiresAt", "thumbnailUrl", "updatedAt")
        }
    if isinstance(answer, list):
        return [_without_stamps(item) for item in answer]
    return answer


def fold_from_scratch(until: datetime) -> None:
    """Forget every roll-up and fold the raw rows left before ``until`` again, as a new deployment would
    (the rows after it stay the raw tail, as they were for the reports compared)."""
    from chalicelib.services.analytics import folding

    for table in ROLLUPS:
        sql(f"DELETE FROM {table}")
    sql("DELETE FROM analytics_state")
    sql("UPDATE video_views SET played_folded = NULL")
    folding.refresh(settle=datetime.now(UTC) - until + timedelta(milliseconds=500))


@pytest.fixture
def audit() -> Iterator[list[logging.LogRecord]]:
    with service_log() as records:
        yield records


def test_erasing_a_person_leaves_every_report_exact_over_the_rows_left(
    client: Any,
    create_video: Any,
    admin_headers: dict[str, str],
    people: dict[str, int],
    audit: list[logging.LogRecord],
) -> None:
    videos = [create_video(published=True, duration=100)["id"] for _ in range(2)]
    library(videos, people)
    for tz in ("UTC", ZONE):  # a first report in a zone asks the refresh to keep its days
        report(client, admin_headers, f"/api/videos/{videos[0]}/analytics", tz=tz)
    refresh()
    refresh()
    started_tail = tail(videos, people)
    before = reports(client, admin_headers, videos)

    ana = people["ana"]
    mine = {"Authorization": f"Bearer {token_for(ana, 'USER')}"}
    response = client.http.delete(f"/api/analytics/viewers/{ana}", headers=mine)
    assert response.status_code == 200, response.body
    done = response.json_body
    assert (done["userId"], done["viewsDeleted"], done["eventsDeleted"]) == (ana, 8, 10)
    assert done["hoursRefolded"] >= 3 and "No row links to this user" in done["message"]

    # Nothing links to her any more: her export is empty, no row carries her id.
    assert client.http.get(f"/api/analytics/viewers/{ana}", headers=mine).json_body["views"] == []
    assert sql("SELECT count(*) FROM video_views WHERE user_id = :u", u=ana) == [(0,)]
    after = reports(client, admin_headers, videos)
    assert after != before

    # Every report equals what roll-ups folded from scratch over the rows left give...
    fold_from_scratch(until=started_tail)
    assert reports(client, admin_headers, videos) == after
    # ...and the all-time figures are the exact counts over those rows.
    for video in videos:
        figures = report(client, admin_headers, f"/api/videos/{video}/analytics", startDate="2020-01-01")
        [(views, viewers, watch, completed)] = sql(
            """SELECT count(*), count(DISTINCT COALESCE('u:' || user_id, 'i:' || ip_address, 'v:' || id)),
                      sum(watch_time_seconds), count(*) FILTER (WHERE completed)
               FROM video_views WHERE video_id = :v AND NOT is_team""",
            v=video,
        )
        assert (figures["totalViews"], figures["uniqueViewers"], figures["uniqueViewersExact"]) == (
            views,
            viewers,
            True,
        )
        assert (figures["totalWatchTimeSeconds"], figures["completedViews"]) == (watch, completed)
        [(events,)] = sql("SELECT count(*) FROM video_events WHERE video_id = :v AND NOT is_team", v=video)
        assert sum(figures["eventCounts"].values()) == events

    [line] = [record for record in audit if record.getMessage() == "Personal data erased"]
    assert (line.subject_user_id, line.requested_by, line.views_deleted) == (ana, ana, 8)  # type: ignore[attr-defined]


def test_only_the_person_or_an_admin_may_erase_and_erasing_twice_deletes_nothing(
    client: Any, create_video: Any, admin_id: int, people: dict[str, int]
) -> None:
    video = create_video(published=True, duration=100)["id"]
    ana, ben = people["ana"], people["ben"]
    add(video, datetime.now(UTC), user=ana, watch=3)
    assert (
        client.http.delete(
            f"/api/analytics/viewers/{ana}", headers={"Authorization": f"Bearer {token_for(ben, 'USER')}"}
        ).status_code
        == 403
    )
    assert client.http.delete(f"/api/analytics/viewers/{ana}").status_code == 401
    assert sql("SELECT count(*) FROM video_views") == [(1,)]
    admin = {"Authorization": f"Bearer {token_for(admin_id)}"}
    first = client.http.delete(f"/api/analytics/viewers/{ana}", headers=admin).json_body
    second = client.http.delete(f"/api/analytics/viewers/{ana}", headers=admin).json_body
    assert (first["viewsDeleted"], second["viewsDeleted"], second["eventsDeleted"]) == (1, 0, 0)
