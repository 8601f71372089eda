"""The breakdown routes over HTTP: their contract, their refusals, and a dimension added as one registry entry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.domain import metrics
from tests.support.analytics import add_view, refresh, report
from tests.support.database import sql


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=60)


@pytest.fixture
def player_dimension(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new dimension: one registry entry, plus the column it reads (what a migration would add)."""
    sql("ALTER TABLE video_views ADD COLUMN player_name text")
    entry = metrics.Dimension("player", "vw.player_name", "The player that sent the view.")
    monkeypatch.setattr(metrics, "DIMENSIONS", (*metrics.DIMENSIONS, entry))
    yield entry.name
    sql("ALTER TABLE video_views DROP COLUMN player_name")


def test_a_dimension_added_as_one_registry_entry_is_broken_down_through_the_route(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], player_dimension: str
) -> None:
    for n, player in enumerate(("shaka", "shaka", "videojs", "shaka", None)):
        add_view(video["id"], watch=10 * (n + 1), ip=f"ip{n}")
        sql("UPDATE video_views SET player_name = :p WHERE id = (SELECT max(id) FROM video_views)", p=player)
    refresh()
    add_view(video["id"], watch=5, ip="tail")  # after the watermark: read raw
    sql("UPDATE video_views SET player_name = 'videojs' WHERE id = (SELECT max(id) FROM video_views)")
    path = f"/api/videos/{video['id']}/analytics/breakdown"
    views = report(client, admin_headers, path, by=player_dimension)
    assert views["rows"] == [
        {"value": "shaka", "views": 3},
        {"value": "videojs", "views": 2},
        {"value": None, "views": 1},
    ]
    assert views["definitions"]["by"] == "The player that sent the view."
    watch = report(client, admin_headers, "/api/videos/analytics/breakdown", by=player_dimension, metric="watchTime")
    assert watch["rows"] == [
        {"value": "shaka", "watchTime": 10 + 20 + 40},
        {"value": None, "watchTime": 50},
        {"value": "videojs", "watchTime": 30 + 5},
    ]


def test_the_answer_is_by_metric_and_rows_largest_first(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any]
) -> None:
    for country in ("DE", "DE", "FR"):
        add_view(video["id"], watch=20, country=country, qoe_at="2026-01-01T00:00:00Z", startup_time_ms=300)
    body = report(client, admin_headers, f"/api/videos/{video['id']}/analytics/breakdown", by="country", metric="plays")
    assert {key: body[key] for key in ("by", "metric", "rows", "tz", "includeTeam")} == {
        "by": "country",
        "metric": "plays",
        "rows": [{"value": "DE", "plays": 2}, {"value": "FR", "plays": 1}],
        "tz": "UTC",
        "includeTeam": False,
    }
    startup = report(client, admin_headers, "/api/videos/analytics/breakdown", by="country", metric="startupTimeP50Ms")
    assert [row["value"] for row in startup["rows"]] == ["DE", "FR"]
    assert all(abs(row["startupTimeP50Ms"] - 300) <= 30 for row in startup["rows"])


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("by=planet", "by"),
        ("by=country&metric=happiness", "metric"),
        ("metric=views", "by"),
        ("by=country&tz=Mars/Olympus", "tz"),
        ("by=country&startDate=2026-02-30", "startDate"),
    ],
)
def test_bad_parameters_are_a_400_that_names_them(
    client: Any, admin_headers: dict[str, str], video: dict[str, Any], query: str, named: str
) -> None:
    for path in (f"/api/videos/{video['id']}/analytics/breakdown", "/api/videos/analytics/breakdown"):
        response = client.http.get(f"{path}?{query}", headers=admin_headers)
        assert response.status_code == 400, response.body
        assert named in response.json_body["message"]


def test_admins_only_and_unknown_videos_are_404(client: Any, admin_headers: dict[str, str]) -> None:
    assert client.http.get("/api/videos/analytics/breakdown?by=os").status_code == 401
    missing = client.http.get("/api/videos/999999/analytics/breakdown?by=os", headers=admin_headers)
    assert missing.status_code == 404
