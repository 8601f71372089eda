"""`make assets`: the third-party browser code the API serves itself, from pinned npm packages,
and the tracking SDK built from its one source.

The docs page (Swagger UI), the dashboard (uPlot) and the pages that play videos
(hls.js) load their scripts and styles from the API, never from a third-party host.
``web-assets/package-lock.json`` pins each package with its integrity hash; this
installs them (``npm ci``, install scripts off: swagger-ui-dist's only one is a
telemetry ping) and copies the few files the pages use, with their licences, into
``chalicelib/web/static/vendor/``, which ``chalice package`` ships inside the
deployment package. A manifest records the versions, which the pages put in their
asset URLs so browsers cache them safely.

The SDK (``chalicelib/web/static/sdk/tracker.mjs``, an ES module) is built by esbuild (pinned
in the same lock file) into a minified classic script defining ``window.MediaTracker``
(``tracker.js``) and a minified ES module (``tracker.mjs``), listed in the manifest too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "web-assets"
VENDOR = ROOT / "chalicelib" / "web" / "static" / "vendor"
# served name -> (package, file inside it)
FILES = {
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
    "swagger-ui-LICENSE.txt": ("swagger-ui-dist", "LICENSE"),
    "uplot.js": ("uplot", "dist/uPlot.iife.min.js"),
    "uplot.css": ("uplot", "dist/uPlot.min.css"),
    "uplot-LICENSE.txt": ("uplot", "LICENSE"),
    # HLS over Media Source Extensions for browsers without native HLS (Chromium, Firefox): the
    # light build plays what the ladder makes (muxed H.264/AAC variants) without the subtitle,
    # alternate-audio and DRM code of the full one (390 KB instead of 620 KB minified).
    "hls.js": ("hls.js", "dist/hls.light.min.js"),
    "hls-LICENSE.txt": ("hls.js", "LICENSE"),
}
SDK_SOURCE = ROOT / "chalicelib" / "web" / "static" / "sdk" / "tracker.mjs"
# served name -> esbuild options: one source, two formats
SDK_BUILDS = {
    "tracker.js": ("--format=iife", "--global-name=MediaTracker"),
    "tracker.mjs": ("--format=esm",),
}
SDK_TARGET = "es2019"


def install() -> None:
    if shutil.which("npm") is None:
        raise SystemExit("npm is required to vendor the docs and dashboard assets (apt-get install nodejs npm)")
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PACKAGES,
        check=True,
        timeout=300,
    )


def copy() -> dict[str, dict[str, str]]:
    VENDOR.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    for served, (package, member) in FILES.items():
        target = VENDOR / served
        shutil.copyfile(PACKAGES / "node_modules" / package / member, target)
        manifest[served] = _entry(package, _version(package), target)
    return manifest


def build_sdk() -> dict[str, dict[str, str]]:
    """Both formats of the SDK, minified, from its one source."""
    esbuild = PACKAGES / "node_modules" / ".bin" / "esbuild"
    built: dict[str, dict[str, str]] = {}
    for served, options in SDK_BUILDS.items():
        target = VENDOR / served
        command = [str(esbuild), str(SDK_SOURCE), "--minify", f"--target={SDK_TARGET}", "--log-level=warning"]
        subprocess.run([*command, *options, f"--outfile={target}"], check=True, timeout=120)
        built[served] = _entry("sdk/tracker.mjs", f"esbuild {_version('esbuild')}", target)
    return built


def _version(package: str) -> str:
    return str(json.loads((PACKAGES / "node_modules" / package / "package.json").read_text())["version"])


def _entry(package: str, version: str, target: Path) -> dict[str, str]:
    return {"package": package, "version": version, "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}


def write_manifest(manifest: dict[str, dict[str, str]]) -> None:
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def main() -> int:
    install()
    manifest = {**copy(), **build_sdk()}
    write_manifest(manifest)
    for served, entry in manifest.items():
        print(f"vendored {served} from {entry['package']}@{entry['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
