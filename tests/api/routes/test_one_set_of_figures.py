"""One set of figures: the list, a video, top videos, the overview and the reports count a view from
the moment it is stored (no refresh run), and show the same numbers for the same video in every state
of the roll-ups: raw only, folded, folded with a tail, too many views to recount, raw rows deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scripts.apigw import invoke, proxy_event
from tests.support.analytics import add_view, refresh, report
from tests.support.database import make_user, sql

AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1) Mobile/15E148")
FIGURES = ("uniqueViewers", "totalWatchTimeSeconds", "averageWatchTimeSeconds", "completionRate")


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


def track(app: Any, path: str, body: dict[str, Any], agent: str = AGENTS[0], ip: str = "203.0.113.70") -> Any:
    """A tracking call as a player in a browser makes it; its answer."""
    event = proxy_event("POST", f"/api/track/{path}", body=body, source_ip=ip, headers={"user-agent": agent})
    status, _, answer = invoke(app, event)
    assert status == 200, answer
    return answer


def view(app: Any, video_id: int, agent: str = AGENTS[0], ip: str = "203.0.113.70") -> dict[str, Any]:
    return track(app, "view", {"videoId": video_id}, agent, ip)


def listed(client: Any, headers: dict[str, str], video_id: int) -> dict[str, Any]:
    page = report(client, headers, "/api/videos", limit=100)
    [found] = [video for video in page["videos"] if video["id"] == video_id]
    return found


def figures_of(answer: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(answer[key] for key in FIGURES)


def report_figures(client: Any, headers: dict[str, str], video_id: int, **params: Any) -> tuple[Any, ...]:
    """The report's all-time figures: views, whether uniqueViewers is exact, and the figures a video answer shows."""
    body = report(client, headers, f"/api/videos/{video_id}/analytics", **params)
    return (body["totalViews"], body["uniqueViewersExact"], *figures_of(body))


def test_a_tracked_view_is_in_every_answer_at_once(
    lambda_app: Any, client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
) -> None:
    other = create_video(published=True)
    first = view(lambda_app, video["id"])  # three views, two viewers; the first watched 12 s to the end
    view(lambda_app, video["id"], AGENTS[1])
    view(lambda_app, video["id"])
    watched = {"viewId": first["viewId"], "viewToken": first["viewToken"]}
    track(lambda_app, "heartbeat", {**watched, "watchTimeSeconds": 12.0})
    track(lambda_app, "event", {**watched, "videoId": video["id"], "eventType": "complete", "timestamp": 12.0})
    view(lambda_app, other["id"])
    assert sql("SELECT count(*) FROM analytics_totals") == [(0,)]  # nothing folded: every view is raw
    expected = (2, 12, 4.0, 33.33)
    assert figures_of(listed(client, admin_headers, video["id"])) == expected
    assert figures_of(report(client, admin_headers, f"/api/videos/{video['id']}")) == expected
    assert report_figures(client, admin_headers, video["id"]) == (3, True, *expected)
    top = report(client, admin_headers, "/api/videos/analytics/top")["videos"]
    ranked = [(row["id"], row["views"], row["uniqueViewers"], row["watchTimeSeconds"]) for row in top]
    assert ranked == [(video["id"], 3, 2, 12), (other["id"], 1, 1, 0)]
    overview = report(client, admin_headers, "/api/videos/analytics/overview")
    assert (overview["totalViews"], overview["uniqueViewers"], overview["viewsLast24h"]) == (4, 2, 4)

    refresh()  # folded, then one more view after the watermark: totals and tail together
    view(lambda_app, video["id"], AGENTS[1], ip="203.0.113.71")
    expected = (3, 12, 3.0, 25.0)
    assert figures_of(listed(client, admin_headers, video["id"])) == expected
    assert figures_of(report(client, admin_headers, f"/api/videos/{video['id']}")) == expected
    assert report_figures(client, admin_headers, video["id"]) == (4, True, *expected)
    top = report(client, admin_headers, "/api/videos/analytics/top")["videos"]
    assert (top[0]["id"], top[0]["views"], top[0]["uniqueViewers"]) == (video["id"], 4, 3)
    assert report(client, admin_headers, "/api/videos/analytics/overview")["totalViews"] == 5


def _views(video_id: int, count: int, at: datetime, *, first_ip: int = 0, team: bool = False) -> None:
    """``count`` views of distinct anonymous viewers, every third completed, watch time 1-7 s."""
    sql(
        """
        INSERT INTO video_views (video_id, ip_address, watch_time_seconds, completed, created_at, is_team)
        SELECT :v, 'ip-' || (:first + g), mod(g, 7) + 1, mod(g, 3) = 0, :at, :team FROM generate_series(1, :n) AS g
        """,
        v=video_id,
        first=first_ip,
        n=count,
        at=at,
        team=team,
    )


def _raw_and_folded(video_id: int) -> None:
    """Folded views, then a tail of returning and new viewers: visitors, a signed-in user, a view with neither."""
    user = make_user(role="USER")
    _views(video_id, 5, datetime.now(UTC) - timedelta(days=2))
    add_view(video_id, user_id=user, ip="ip-9", at=datetime.now(UTC) - timedelta(days=2))
    refresh()
    _views(video_id, 3, datetime.now(UTC), first_ip=3)  # two visitors again, one new
    add_view(video_id, user_id=user, ip="ip-10")  # the user again, from elsewhere
    add_view(video_id, ip="ip-9")  # an anonymous visitor whose key only the user's view had
    add_view(video_id)  # a viewer of its own


def _many(video_id: int) -> None:
    """More views than are recounted exactly: the estimate, from the totals' sketch and the tail's viewers."""
    _views(video_id, 2_500, datetime.now(UTC) - timedelta(days=2))
    refresh()
    _views(video_id, 40, datetime.now(UTC), first_ip=2_480)


def _raw_deleted(video_id: int) -> None:
    """Retention deleted older raw rows: no recount, even for few views."""
    _raw_and_folded(video_id)
    sql("INSERT INTO analytics_state (name, at) VALUES ('raw_kept_from', now() - interval '1 day')")


def _team_and_public(video_id: int) -> None:
    _views(video_id, 4, datetime.now(UTC) - timedelta(days=2))
    _views(video_id, 2, datetime.now(UTC) - timedelta(days=2), first_ip=3, team=True)
    refresh()
    add_view(video_id, watch=5, completed=True, ip="ip-1")


@pytest.mark.parametrize(
    ("build", "exact"), [(_raw_and_folded, True), (_many, False), (_raw_deleted, False), (_team_and_public, True)]
)
def test_every_answer_counts_a_video_alike(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], build: Any, exact: bool
) -> None:
    build(video["id"])
    views, is_exact, *shown = report_figures(client, admin_headers, video["id"])
    assert is_exact is exact
    assert list(figures_of(listed(client, admin_headers, video["id"]))) == shown
    assert list(figures_of(report(client, admin_headers, f"/api/videos/{video['id']}"))) == shown
    for include_team in ("false", "true"):
        [top] = report(client, admin_headers, "/api/videos/analytics/top", includeTeam=include_team)["videos"]
        everyone = report(client, admin_headers, f"/api/videos/{video['id']}/analytics", includeTeam=include_team)
        assert (top["views"], top["uniqueViewers"], top["watchTimeSeconds"], top["completionRate"]) == (
            everyone["totalViews"],
            everyone["uniqueViewers"],
            everyone["totalWatchTimeSeconds"],
            everyone["completionRate"],
        )
    aggregated = client.http.post(f"/api/videos/{video['id']}/analytics/aggregate", headers=admin_headers).json_body
    assert (aggregated["analytics"]["totalViews"], *figures_of(aggregated["analytics"])) == (views, *shown)


def test_an_estimate_says_so_everywhere(client: Any, admin_headers: dict[str, str], video: dict[str, Any]) -> None:
    _many(video["id"])
    viewers = listed(client, admin_headers, video["id"])["uniqueViewers"]
    assert viewers != 2_520 and abs(viewers - 2_520) <= 2_520 * 0.02  # an estimate, and a close one
    body = report(client, admin_headers, f"/api/videos/{video['id']}/analytics")
    assert (body["uniqueViewers"], body["uniqueViewersExact"]) == (viewers, False)


def test_the_list_reads_the_figures_of_a_page_in_one_statement(
    client: Any, admin_headers: dict[str, str], create_video: Any
) -> None:
    """However many videos a page holds, their figures cost one statement (no query per video)."""
    from sqlalchemy import event

    from chalicelib.db.engine import get_engine

    videos = [create_video(published=True) for _ in range(5)]
    for position, made in enumerate(videos):
        _views(made["id"], position + 1, datetime.now(UTC), first_ip=position * 10)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = report(client, admin_headers, "/api/videos", limit=100)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sorted(video["uniqueViewers"] for video in page["videos"]) == [1, 2, 3, 4, 5]
    assert sum("analytics_totals" in statement for statement in statements) == 1


def test_the_library_report_is_every_video_together_hour_by_hour(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], create_video: Any
) -> None:
    """Two viewers of two videos in the same minute: the library's hour has both, and its busiest minute
    two concurrent viewers, from raw rows and from the roll-ups alike."""
    other = create_video(published=True, duration=100)
    at = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=10, second=0, microsecond=0)
    add_view(video["id"], watch=30, ip="a" * 64, at=at)
    add_view(other["id"], watch=50, ip="b" * 64, at=at + timedelta(seconds=5))
    add_view(other["id"], watch=5, ip="c" * 64, at=at - timedelta(days=1))

    def hour_of_both(body: dict[str, Any]) -> dict[str, Any]:
        [point] = [
            point for point in body["viewsByHour"] if datetime.fromisoformat(point["hour"]) == at.replace(minute=0)
        ]
        return point

    answers = []
    for _ in ("raw", "folded"):
        body = report(client, admin_headers, "/api/videos/analytics/report", interval="hour", tz="UTC")
        point = hour_of_both(body)
        assert (point["views"], point["uniqueViewers"], point["peakConcurrentViewers"]) == (2, 2, 2)
        assert (body["totalViews"], body["totalWatchTimeSeconds"]) == (3, 85)
        assert "videoId" not in body and "topReferrers" not in body
        answers.append(point)
        refresh()
    assert answers[0] == answers[1]
    by_day = report(client, admin_headers, "/api/videos/analytics/report", tz="UTC")
    assert sum(point["views"] for point in by_day["viewsByDay"]) == 3 and by_day["viewsByHour"] == []
