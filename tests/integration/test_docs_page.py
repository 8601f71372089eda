"""The API reference page in a real browser: headless Chromium opens ``/api/docs`` on the local
server, which renders the service's own OpenAPI document with code the API serves itself."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import ConsoleErrors, chromium
from tests.support.env import BASE_ENV
from tests.support.local_server import LocalServer, local_server


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[LocalServer]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": database_url}
    with local_server(env, log=tmp_path / "server.log") as server:
        yield server


def test_the_docs_page_lists_every_operation_with_no_console_errors(served: LocalServer, tmp_path: Path) -> None:
    with urllib.request.urlopen(f"{served}/api/openapi.json", timeout=10) as response:
        document: dict[str, Any] = json.loads(response.read())
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    errors = ConsoleErrors()
    other_hosts: list[str] = []
    with chromium() as browser:
        page = errors.watch(browser.new_page())
        page.on(
            "request",
            lambda request: other_hosts.append(request.url) if not request.url.startswith(str(served)) else None,
        )
        page.goto(f"{served}/api/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        shown = page.eval_on_selector_all(
            ".opblock",
            """blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent.trim(),
                                         b.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
        )
        assert "Media API" in page.inner_text(".info .title")
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
    assert {(method, path) for method, path in shown} == operations
    assert errors == []
    assert other_hosts == []  # scripts, styles and the document all come from the API itself
