#!/usr/bin/env bash
# Installs schemathesis (PyPI) into its own venv under .tools/ for the API fuzz test
# (test/e2e/api/schemathesis.test.ts): the version is pinned, the venv is reused while it matches.
set -euo pipefail

VERSION=4.32.5
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.tools/schemathesis"
ST="$VENV/bin/st"

if [ -x "$ST" ] && [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  else
    echo "holdfast: the API fuzz test needs Python's venv: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
fi
echo "installing schemathesis $VERSION into $VENV (once; reused afterwards)"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
"$ST" --version
