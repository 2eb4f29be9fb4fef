#!/usr/bin/env bash
# Which Node.js the Makefile runs the project with (docs/adr/020-supported-node-lines.md).
#
#   scripts/node-runtime.sh bin     the bin dir to put first on PATH: nothing when the machine's
#                                   own node is a supported line (22.12+ or 24+), otherwise the
#                                   pinned Node 24, installed on first use
#   scripts/node-runtime.sh other   the bin dir of the other supported line, for the second test
#                                   run: pinned 22 when `bin` gives 24 or later, pinned 24 when 22
#
# Pinned binaries are the official builds the npm registry serves as `node-<os>-<arch>`; they go
# to .tools/node-v<version>/ (ignored by git). Bumping a pin below installs the new one next to
# the old; `make clean-tools` removes them all. Messages go to stderr: stdout is the answer.
set -euo pipefail

# package.json engines is "^22.<MIN_22_MINOR>.0 || >=24" (test/unit/runtime.test.ts keeps them equal).
PINNED_24=24.22.3
PINNED_22=22.23.5
MIN_22_MINOR=12

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"

say() { echo "holdfast: $*" >&2; }

# "22.12.0" -> 0 when that version is a supported line
supported() {
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [ "$major" -ge 24 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge "$MIN_22_MINOR" ]; }
}

# Installs the official Node <version> into .tools/node-v<version> once; prints its bin dir.
pinned() {
  local version=$1 dir="$tools/node-v$1" os arch pkg tmp
  if [ ! -x "$dir/bin/node" ]; then
    os="$(uname -s | tr '[:upper:]' '[:lower:]')"
    case "$(uname -m)" in
      x86_64 | amd64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) arch="$(uname -m)" ;;
    esac
    pkg="node-$os-$arch@$version"
    command -v npm >/dev/null 2>&1 || {
      say "no Node 22.12+ or 24+ on PATH and no npm to fetch $pkg; install Node 24 LTS"
      exit 1
    }
    say "installing Node $version ($pkg from the npm registry) into ${dir#"$root"/}"
    mkdir -p "$tools"
    tmp="$(mktemp -d "$tools/.install.XXXXXX")"
    chmod 755 "$tmp"
    if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "$pkg" >&2; then
      rm -rf "$tmp"
      say "could not install $pkg; install Node 24 LTS (or 22.12+) yourself and run make again"
      exit 1
    fi
    mkdir -p "$tmp/bin"
    ln -s ../node_modules/"node-$os-$arch"/bin/node "$tmp/bin/node"
    # A second make that installed the same version first wins; ours is dropped.
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  fi
  local got
  got="$("$dir/bin/node" -v 2>/dev/null)" || {
    say "$dir/bin/node does not run on this machine; install Node 24 LTS (or 22.12+) yourself"
    exit 1
  }
  [ "$got" = "v$version" ] || {
    say "$dir/bin/node is $got, expected v$version; run make clean-tools"
    exit 1
  }
  echo "$dir/bin"
}

system_version() {
  command -v node >/dev/null 2>&1 && node -p process.versions.node 2>/dev/null
}

case "${1:-}" in
  bin)
    if v="$(system_version)" && supported "$v"; then
      exit 0
    fi
    [ -n "${v:-}" ] && say "this machine's Node $v is not a supported line; the project runs on Node $PINNED_24"
    pinned "$PINNED_24"
    ;;
  other)
    # Whatever `bin` chose is first on PATH when make runs this.
    v="$(system_version)"
    if [ "${v%%.*}" = 22 ]; then pinned "$PINNED_24"; else pinned "$PINNED_22"; fi
    ;;
  *)
    echo "usage: $0 bin | other" >&2
    exit 64
    ;;
esac
