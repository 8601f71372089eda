#!/usr/bin/env bash
# Create LocalStack's own virtualenv (Python 3.13; pins that make localstack-core 2026.3
# start on the host without Docker, see README "Local AWS").
set -euo pipefail
venv=${1:-.venv-localstack}
version=${2:-3.13}

find_python() {
  if command -v "python$version" >/dev/null 2>&1 && "python$version" --version >/dev/null 2>&1; then
    echo "python$version"; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local full
    full=$(pyenv versions --bare 2>/dev/null | grep -E "^${version//./\\.}(\.[0-9]+)?$" | tail -n 1 || true)
    if [ -n "$full" ]; then
      echo "$(pyenv root)/versions/$full/bin/python$version"; return
    fi
  fi
  return 1
}

python=$(find_python) || { echo "Python $version is required for LocalStack (install it, e.g. with pyenv)" >&2; exit 1; }
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet 'localstack-core[runtime]==2026.3.0' 'cbor2<5.7' 'cryptography<45' 'pyopenssl<25' service_identity 'joserfc<1.8'
"$venv/bin/python" -c "import localstack; print('LocalStack virtualenv ready:', '$venv')"
