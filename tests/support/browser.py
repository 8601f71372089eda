"""A real browser for the tests: Debian's headless Chromium driven by Playwright, and pages
served from another origin than the API (a plain static file server on its own port).

Playwright cannot download its own browser here, so it launches ``/usr/bin/chromium``
(``CHROMIUM_PATH`` overrides it) with the flags a closed network and root need.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls to Google's hosts on a closed network
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def static_site(directory: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``directory`` on a free port; yields the site's origin (``http://host:port``)."""
    with serve(functools.partial(_QuietHandler, directory=str(directory)), host) as origin:
        yield origin


@contextmanager
def serve(handler: Callable[..., BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``handler`` on a free port, a thread per connection; yields the origin."""
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions of a page, collected as they happen."""

    def watch(self, page: Any) -> Any:
        page.on("console", lambda message: self.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.append(str(error)))
        return page
