"""`make assets`: the third-party browser code the API serves itself, from pinned npm packages.

The docs page (Swagger UI), the dashboard (uPlot) and the pages that play videos
(hls.js) load their scripts and styles from the API, never from a third-party host.
``web-assets/package-lock.json`` pins each package with its integrity hash; this
installs them (``npm ci``, install scripts off: swagger-ui-dist's only one is a
telemetry ping) and copies the few files the pages use, with their licences, into
``chalicelib/web/static/vendor/``, which ``chalice package`` ships inside the
deployment package. A manifest records the versions, which the pages put in their
asset URLs so browsers cache them safely.
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
        source = PACKAGES / "node_modules" / package / member
        target = VENDOR / served
        shutil.copyfile(source, target)
        version = json.loads((PACKAGES / "node_modules" / package / "package.json").read_text())["version"]
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        manifest[served] = {"package": package, "version": version, "sha256": digest}
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main() -> int:
    install()
    for served, entry in copy().items():
        print(f"vendored {served} from {entry['package']}@{entry['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
