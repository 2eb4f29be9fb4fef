#!/usr/bin/env bash
# Installs helm into .tools/bin for the chart checks. helm is not a Debian package; it builds from
# source through the Go module proxy (~1 min 40 s and ~400 MB of module cache the first time), so
# the binary is kept and reused while its version matches.
set -euo pipefail

HELM_VERSION=v3.22.0
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.tools/bin"
HELM="$BIN/helm"
# A source build reports only "v3.22" itself, so the module version is read from the binary.
built_version() { go version -m "$HELM" 2>/dev/null | awk '$1 == "mod" { print $3 }'; }

if [ -x "$HELM" ] && [ "$(built_version)" = "$HELM_VERSION" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "holdfast: the chart checks need helm $HELM_VERSION, built with Go (https://go.dev/dl/);" >&2
  echo "holdfast: install Go, then run scripts/install-helm.sh again" >&2
  exit 1
fi
mkdir -p "$BIN"
echo "building helm $HELM_VERSION into $BIN (once; cached afterwards)"
GOBIN="$BIN" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
[ "$(built_version)" = "$HELM_VERSION" ]
