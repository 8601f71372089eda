"""Fixtures of the analytics report tests: a published video, and rows left raw or folded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.analytics import refresh


@pytest.fixture
def video(create_video: Any) -> dict[str, Any]:
    return create_video(published=True, duration=100)


@pytest.fixture(params=["raw", "folded"])
def settle(request: pytest.FixtureRequest) -> Callable[[], None]:
    """Call after adding rows: leaves them raw, or folds them into roll-ups."""

    def fold() -> None:
        if request.param == "folded":
            refresh()

    return fold
