"""Files the API serves itself: its pages' own scripts and styles, and the vendored third-party
code (``make assets``) under ``static/vendor/``. Nothing a page loads comes from another host.

Only the files listed here are served (a path parameter never reaches the file system),
read once per container, with a version in their URLs (:func:`asset_url`) so browsers
may cache them for a day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.domain.errors import NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from chalicelib.web.responses import Reply

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# name in URLs -> file under static/
ASSETS = {
    "swagger-ui-bundle.js": "vendor/swagger-ui-bundle.js",
    "swagger-ui.css": "vendor/swagger-ui.css",
    "swagger-ui-LICENSE.txt": "vendor/swagger-ui-LICENSE.txt",
    "uplot.js": "vendor/uplot.js",
    "uplot.css": "vendor/uplot.css",
    "uplot-LICENSE.txt": "vendor/uplot-LICENSE.txt",
    "hls.js": "vendor/hls.js",
    "hls-LICENSE.txt": "vendor/hls-LICENSE.txt",
    "docs.js": "docs.js",
    "dashboard.js": "dashboard.js",
    "pages.css": "pages.css",
}
PAGES = {"docs": "docs.html", "dashboard": "dashboard.html"}
HTML = "text/html; charset=utf-8"
# The pages load only what the API serves; their scripts are files, never inline.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; "
    "media-src https: http:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class Asset:
    text: str
    content_type: str


@cache
def asset(name: str) -> Asset:
    relative = ASSETS.get(name)
    if relative is None:
        raise NotFound(f"No asset named {name!r}")
    return _read(relative)


@cache
def page(name: str) -> Asset:
    """A page, with ``{{asset:NAME}}`` replaced by that asset's versioned URL."""
    content = _read(PAGES[name])
    text = content.text
    for asset_name in ASSETS:
        text = text.replace("{{asset:" + asset_name + "}}", asset_url(asset_name))
    return Asset(text, content.content_type)


def asset_url(name: str) -> str:
    """Relative to a page under ``/api/``: ``assets/<name>?v=<version>``."""
    return f"assets/{name}?v={_versions().get(name, 'local')}"


@cache
def _versions() -> dict[str, str]:
    try:
        manifest = json.loads((VENDOR / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    versions = {name.removeprefix("vendor/"): entry["sha256"][:12] for name, entry in manifest.items()}
    return {name: versions.get(Path(relative).name, "local") for name, relative in ASSETS.items()}


def _read(relative: str) -> Asset:
    path = STATIC / relative
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # the vendored files are missing: `make assets` was not run
        raise ServiceUnavailable(f"{relative} is not installed (run `make assets`)") from exc
    return Asset(text, CONTENT_TYPES[path.suffix])


def page_reply(name: str) -> Reply:
    """A page as an answer, with the policy that keeps it to this API's own code."""
    from chalicelib.web.responses import Reply

    found = page(name)
    return Reply(found.text, headers=PAGE_HEADERS, content_type=found.content_type)
