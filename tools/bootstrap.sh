#!/usr/bin/env bash
# Installs what the workspace needs on a fresh machine: uv (from PyPI), the locked Python
# environment, and buf (from npm). Kafka and FerretDB are installed by `mrc-dev install`.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
export UV_PYTHON_DOWNLOADS=never

if ! command -v uv >/dev/null 2>&1 || [[ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]]; then
  echo "==> installing uv $UV_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

echo "==> syncing the Python workspace (uv.lock)"
uv sync --frozen --quiet

if [[ ! -x node_modules/.bin/buf || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> installing buf (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
