"""Files the API serves itself: its pages' own scripts and styles, the vendored third-party
code and the tracking SDK built from its source (both by ``make assets``, under
``static/vendor/``). Nothing a page loads comes from another host.

Only the files listed here are served (a path parameter never reaches the file system),
read once per container, with a version in their URLs (:func:`asset_url`,
:func:`sdk_name`) so browsers may cache them.
"""

from __future__ import annotations

import hashlib
import json
import re
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
    ".mjs": "text/javascript; charset=utf-8",
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
    "embed.js": "embed.js",
    "embed.css": "embed.css",
}
PAGES = {"docs": "docs.html", "dashboard": "dashboard.html", "embed": "embed.html"}
# The tracking SDK, built by `make assets` from sdk/tracker.mjs: name in URLs -> file under static/
SDK_FILES = {"tracker.js": "vendor/tracker.js", "tracker.mjs": "vendor/tracker.mjs"}
VERSION_CHARS = 12
_SDK_NAME = re.compile(rf"tracker(?:\.([0-9a-f]{{{VERSION_CHARS}}}))?\.(m?js)")
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
def page(name: str, base: str = "") -> Asset:
    """A page, with ``{{asset:NAME}}`` replaced by that asset's versioned URL and ``{{sdk:NAME}}`` by the
    SDK's; ``base`` leads from the page's folder to ``/api/`` (``../`` for ``/api/embed/<id>``)."""
    content = _read(PAGES[name])
    text = content.text
    for asset_name in ASSETS:
        text = text.replace("{{asset:" + asset_name + "}}", base + asset_url(asset_name))
    for sdk_file in SDK_FILES:
        text = text.replace("{{sdk:" + sdk_file + "}}", f"{base}sdk/{sdk_name(sdk_file)}")
    return Asset(text, content.content_type)


def asset_url(name: str) -> str:
    """Relative to a page under ``/api/``: ``assets/<name>?v=<version>``."""
    return f"assets/{name}?v={_version(ASSETS[name])}"


@dataclass(frozen=True)
class SdkRequest:
    """``tracker.js`` or ``tracker.mjs`` as asked for: unversioned, or with the version it was built as."""

    file: str
    version: str | None


def parse_sdk_name(raw: str) -> SdkRequest:
    match = _SDK_NAME.fullmatch(raw)
    if match is None:
        raise NotFound("The SDK is tracker.js (a classic script) or tracker.mjs (an ES module)")
    return SdkRequest(f"tracker.{match.group(2)}", match.group(1))


def sdk_version(file: str) -> str:
    return _version(SDK_FILES[file])


def sdk_name(file: str) -> str:
    """The versioned name of an SDK file (``tracker.<version>.js``): its content never changes."""
    stem, extension = file.split(".")
    return f"{stem}.{sdk_version(file)}.{extension}"


def sdk_script(file: str) -> Asset:
    return _read(SDK_FILES[file])


@cache
def _version(relative: str) -> str:
    """What ``make assets`` recorded for a built or vendored file, else the hash of the API's own file."""
    recorded = _versions().get(relative)
    if recorded is not None:
        return recorded
    try:
        return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:VERSION_CHARS]
    except OSError:
        return "local"


@cache
def _versions() -> dict[str, str]:
    """File under static/ -> the first characters of its SHA-256 (``make assets`` records them)."""
    try:
        manifest = json.loads((VENDOR / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    return {f"vendor/{name}": entry["sha256"][:VERSION_CHARS] for name, entry in manifest.items()}


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
