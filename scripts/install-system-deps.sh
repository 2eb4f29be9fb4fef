#!/usr/bin/env bash
# Installs the Debian packages the tests need (real servers, never mocks).
# As root it uses apt-get; otherwise it says exactly what to install and fails.
set -euo pipefail

# command -> Debian package that provides it
declare -A NEED=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [chromium]=chromium
  [prometheus]=prometheus
  [promtool]=prometheus
  [faketime]=faketime
  [openssl]=openssl
  # The containers run of the Redis suites (scripts/containers/podman.sh): podman's
  # Docker-compatible API, with runc as its runtime (crun fails on hybrid cgroups).
  [podman]=podman
  [runc]=runc
  # The partition scenario (test/e2e/faults/partition.test.ts): network namespaces, veth, DROP.
  [ip]=iproute2
  [iptables]=iptables
)

missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "holdfast: the tests need these Debian packages: ${missing[*]}" >&2
  echo "holdfast: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
