"""Anonymous viewers are told apart by a keyed hash of IP and User-Agent, salted per UTC day by default;
the rate limit stays per IP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scripts.apigw import invoke, proxy_event
from tests.support.analytics import refresh, report
from tests.support.api import token_for
from tests.support.database import sql

IP = "203.0.113.60"
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
]


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


def view(app: Any, video_id: int, agent: str, ip: str = IP) -> int:
    event = proxy_event(
        "POST", "/api/track/view", body={"videoId": video_id}, source_ip=ip, headers={"user-agent": agent}
    )
    status, _, _ = invoke(app, event)
    return status


def keys() -> list[str]:
    return [row[0] for row in sql("SELECT ip_address FROM video_views ORDER BY id")]


def test_browsers_behind_one_address_are_different_viewers(
    lambda_app: Any, client: Any, video: dict[str, Any], admin_id: int
) -> None:
    for agent in [*AGENTS, AGENTS[0]]:
        assert view(lambda_app, video["id"], agent) == 200
    assert view(lambda_app, video["id"], AGENTS[0], ip="203.0.113.61") == 200
    first, second, third, again, elsewhere = keys()
    assert len({first, second, third, elsewhere}) == 4 and again == first
    assert all(len(key) == 64 and IP not in key for key in keys())
    headers = {"Authorization": f"Bearer {token_for(admin_id)}"}
    for fold in (False, True):  # from raw rows, then from the roll-ups
        if fold:
            refresh()
        figures = report(client, headers, f"/api/videos/{video['id']}/analytics")
        assert (figures["totalViews"], figures["uniqueViewers"]) == (5, 4)


def test_the_salt_changes_with_the_utc_day_and_the_old_one_is_forgotten(lambda_app: Any, video: dict[str, Any]) -> None:
    from chalicelib.services import privacy

    view(lambda_app, video["id"], AGENTS[0])
    # The next day: the container's salt is of yesterday, the stored one too.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    sql("UPDATE visitor_salts SET day = :day", day=yesterday)
    privacy.forget_salt()
    view(lambda_app, video["id"], AGENTS[0])
    before, after = keys()
    assert before != after  # no key links the same browser across days
    assert [row[0] for row in sql("SELECT day FROM visitor_salts")] == [datetime.now(UTC).date()]


def test_the_refresh_forgets_past_salts_even_without_traffic(video: dict[str, Any]) -> None:
    from chalicelib.db.engine import transaction
    from chalicelib.repositories import visitor_salts

    sql(
        "INSERT INTO visitor_salts (day, salt) VALUES (:day, '\\x01')", day=datetime.now(UTC).date() - timedelta(days=2)
    )
    with transaction() as connection:
        assert visitor_salts.forget_earlier_days(connection) == 1
    assert sql("SELECT count(*) FROM visitor_salts") == [(0,)]


def test_without_rotation_a_browser_keeps_its_key(
    lambda_app: Any, video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import hmac

    from chalicelib.config import get_settings
    from chalicelib.services import privacy

    monkeypatch.setenv("VIDEO_ANALYTICS_VISITOR_SALT_ROTATION", "never")
    get_settings.cache_clear()
    view(lambda_app, video["id"], AGENTS[1])
    privacy.forget_salt()
    view(lambda_app, video["id"], AGENTS[1])
    expected = hmac.new(b"test-ip-hash-secret", b"\0".join((b"", IP.encode(), AGENTS[1].encode())), hashlib.sha256)
    assert keys() == [expected.hexdigest()] * 2
    assert sql("SELECT count(*) FROM visitor_salts") == [(0,)]


def test_an_unknown_rotation_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import ConfigurationError, get_settings

    monkeypatch.setenv("VIDEO_ANALYTICS_VISITOR_SALT_ROTATION", "weekly")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="VIDEO_ANALYTICS_VISITOR_SALT_ROTATION"):
        get_settings()
    monkeypatch.delenv("VIDEO_ANALYTICS_VISITOR_SALT_ROTATION")
    get_settings.cache_clear()


def test_the_rate_limit_stays_per_address_whatever_the_browser(lambda_app: Any, video: dict[str, Any]) -> None:
    if datetime.now(UTC).second >= 45:  # one calendar-minute window for the whole burst
        import time

        time.sleep(61 - datetime.now(UTC).second)
    statuses = [view(lambda_app, video["id"], AGENTS[n % 3], ip="198.51.100.77") for n in range(101)]
    assert statuses == [200] * 100 + [429]
