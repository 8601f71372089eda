"""Print each Lambda function's unzipped size (its deployment package plus its layers) against
Lambda's 250 MB limit, and fail when one is over.

    python -m infra.layer_sizes --layers build/layers [--package build/package-prod]

Without ``--package`` (``make layer``) it runs ``chalice package`` into a temporary
directory to measure the deployment package the functions share.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.api_functions import GROUPS
from infra.render_template import API_HANDLER, function_names, layers

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
LAYER_ZIPS = {"FfprobeLayer": "ffprobe-layer-x86_64.zip", "FfmpegLayer": "ffmpeg-layer-x86_64.zip"}


def unzipped_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def totals(deployment_zip: Path, layers_dir: Path) -> dict[str, tuple[int, list[str]]]:
    """Function name -> (unzipped bytes of package + layers, its layers)."""
    package = unzipped_bytes(deployment_zip)
    layer_bytes = {layer: unzipped_bytes(layers_dir / name) for layer, name in LAYER_ZIPS.items()}
    sizes = {
        name: (package + sum(layer_bytes[layer] for layer in layers(name)), layers(name))
        for name in function_names()
        if name != API_HANDLER  # split into one function per endpoint group (infra/api_functions.py)
    }
    for group in GROUPS:
        carried = list(group.layers)
        sizes[group.function] = (package + sum(layer_bytes[layer] for layer in carried), carried)
    return sizes


def _package(out: Path) -> Path:
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run([str(chalice), "package", "--stage", "prod", str(out)], cwd=ROOT, env=env, check=True)
    return out / "deployment.zip"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--layers", type=Path, required=True)
    parser.add_argument("--package", type=Path)
    args = parser.parse_args(argv)
    mb = 1024 * 1024
    with tempfile.TemporaryDirectory() as scratch:
        deployment = args.package / "deployment.zip" if args.package else _package(Path(scratch) / "package")
        sizes = totals(deployment, args.layers)
        print(f"deployment package (shared by every function): {unzipped_bytes(deployment) / mb:.1f} MB unzipped")
    for name, (size, carried) in sorted(sizes.items(), key=lambda item: -item[1][0]):
        print(f"  {name:28} {size / mb:6.1f} MB  (package{''.join(' + ' + layer for layer in carried)})")
    largest, (size, _) = max(sizes.items(), key=lambda item: item[1][0])
    print(f"largest function: {largest}, {size / mb:.1f} MB of Lambda's {LAMBDA_UNZIPPED_LIMIT // mb} MB")
    if size >= LAMBDA_UNZIPPED_LIMIT:
        print(f"error: {largest} exceeds Lambda's unzipped limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
