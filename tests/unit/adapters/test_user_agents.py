"""The User-Agent parser's answers: device type, browser and OS families, bots only for spiders."""

from __future__ import annotations

import pytest

from chalicelib.adapters import user_agents
from chalicelib.domain.viewers import ViewerAgent

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_WINDOWS, ("desktop", "Chrome", "Windows")),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1",
            ("mobile", "Mobile Safari", "iOS"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
            "Mobile Safari/537.36",
            ("mobile", "Chrome Mobile", "Android"),
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
            "Mobile/15E148 Safari/604.1",
            ("tablet", "Mobile Safari", "iOS"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
            "Safari/537.36",
            ("tablet", "Chrome", "Android"),
        ),
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/538.1 (KHTML, like Gecko) Version/6.0 TV "
            "Safari/538.1",
            ("tv", "Safari", "Tizen"),
        ),
        ("Roku/DVP-9.10 (519.10E04111A)", ("tv", "Roku", "Roku")),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ("bot", "Googlebot", "Other")),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ("bot", "bingbot", "Other")),
        # HTTP clients and headless browsers are players like any other, not bots.
        ("curl/8.5.0", ("desktop", "curl", "Other")),
        ("python-requests/2.31.0", ("desktop", "Python Requests", "Other")),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
            "Safari/537.36",
            ("desktop", "HeadlessChrome", "Linux"),
        ),
        ("", ("desktop", "Other", "Other")),
    ],
)
def test_device_type_browser_and_os(agent: str, expected: tuple[str, str, str]) -> None:
    assert user_agents.parse(agent) == ViewerAgent(*expected)


def test_answers_are_remembered_per_user_agent() -> None:
    user_agents.parse.cache_clear()
    first = user_agents.parse(CHROME_WINDOWS)
    assert user_agents.parse(CHROME_WINDOWS) is first
    assert user_agents.parse.cache_info().hits == 1


def test_only_spiders_are_bots() -> None:
    assert user_agents.parse("Mozilla/5.0 (compatible; Googlebot/2.1)").is_bot
    assert not user_agents.parse("Wget/1.21").is_bot
