#!/usr/bin/env bash
# Installs helm into .tools/bin for the chart checks. helm is not a Debian package; it builds from
# source through the Go module proxy (~2 min and ~400 MB of module cache the first time), so the
# binary is kept and reused while its version matches.
set -euo pipefail

HELM_VERSION=v3.22.0
# The Kubernetes version helm assumes without a cluster: the release build's (client-go v0.37).
K8S_MAJOR=1
K8S_MINOR=37
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.tools/bin"
HELM="$BIN/helm"

if [ -x "$HELM" ] && [ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "holdfast: the chart checks need helm $HELM_VERSION, built with Go (https://go.dev/dl/);" >&2
  echo "holdfast: install Go, then run scripts/install-helm.sh again" >&2
  exit 1
fi
mkdir -p "$BIN"
echo "building helm $HELM_VERSION into $BIN (once; cached afterwards)"
# The same -X flags as helm's release Makefile: without them a source build reports "v3.22" and
# assumes Kubernetes 1.20, so `helm install` refuses a chart with kubeVersion >= 1.25.
LDFLAGS="-w -s -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  LDFLAGS="$LDFLAGS -X $pkg.k8sVersionMajor=$K8S_MAJOR -X $pkg.k8sVersionMinor=$K8S_MINOR"
done
GOBIN="$BIN" go install -ldflags "$LDFLAGS" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
[ "$("$HELM" version --template '{{.Version}}')" = "$HELM_VERSION" ]
