#!/usr/bin/env bash
# Test Redis in containers without Docker: podman's Docker-compatible API socket and a Redis
# image built here from Debian's redis-server (no image registry is reachable from CI).
#
#   podman.sh image          build localhost/holdfast-redis:<redis version> (skipped if present)
#   podman.sh up             start `podman system service` on a socket under .tmp/containers
#   podman.sh down           remove the harness's containers, stop exactly the service `up` started
#   podman.sh run CMD...     image + up, run CMD with DOCKER_HOST etc. set, then down (always)
#
# Measured to work on the project's machines: runc (crun fails on hybrid
# cgroups), nofile/nproc ulimits of 1024, and Ryuk disabled (its image cannot be pulled).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.tmp/containers"
SOCK="$STATE/podman.sock"
# A unix socket path has at most 107 bytes: a deep checkout gets its socket under /tmp instead.
if [ ${#SOCK} -gt 100 ]; then
  SOCK="/tmp/holdfast-podman-$(printf '%s' "$ROOT" | md5sum | cut -c1-12).sock"
fi
PIDFILE="$STATE/podman.pid"
CONF="$STATE/containers.conf"
# The owner label the harness puts on its containers (test/harness/containers.ts) when
# HOLDFAST_CONTAINERS_OWNER is set: down removes this checkout's containers and no others.
LABEL="holdfast.harness.owner=$ROOT"

die() {
  echo "holdfast containers: $*" >&2
  exit 1
}

command -v podman >/dev/null || die "podman is not installed (run scripts/install-system-deps.sh)"
command -v redis-server >/dev/null || die "redis-server is not installed (the image is built from it)"

redis_version() { redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p'; }
IMAGE="localhost/holdfast-redis:$(redis_version)"

write_conf() {
  mkdir -p "$STATE"
  cat >"$CONF" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
}

# podman as the service sees it (same config), for image and cleanup commands.
pm() { CONTAINERS_CONF="$CONF" podman --runtime runc "$@"; }

cmd_image() {
  write_conf
  if pm image exists "$IMAGE"; then
    echo "$IMAGE"
    return
  fi
  local root
  root="$(mktemp -d)"
  # A root filesystem with only redis-server and the libraries ldd lists (plus the loader).
  # Copied under its own name: Debian's redis-server is a symlink to redis-check-rdb, and
  # Redis picks its mode from argv[0].
  mkdir -p "$root/usr/bin" "$root/data" "$root/tmp" "$root/etc"
  cp -L /usr/bin/redis-server "$root/usr/bin/redis-server"
  ldd /usr/bin/redis-server | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  echo 'root:x:0:0:root:/data:/usr/bin/redis-server' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  tar -C "$root" -cf "$root.tar" .
  pm import --quiet --change 'ENTRYPOINT ["/usr/bin/redis-server"]' --change 'WORKDIR /data' \
    --change 'ENV PATH=/usr/bin' "$root.tar" "$IMAGE" >/dev/null
  rm -rf "$root" "$root.tar"
  echo "$IMAGE"
}

service_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  # The pid is ours only while it is still a podman system service on our socket.
  grep -qa "$SOCK" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

cmd_up() {
  write_conf
  if service_pid >/dev/null; then
    echo "holdfast containers: service already running (pid $(service_pid))"
    return
  fi
  rm -f "$SOCK" "$PIDFILE"
  CONTAINERS_CONF="$CONF" setsid podman --runtime runc system service --time=0 "unix://$SOCK" \
    >"$STATE/service.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 100); do
    if [ -S "$SOCK" ] && podman --remote --url "unix://$SOCK" version >/dev/null 2>&1; then
      echo "holdfast containers: podman API on unix://$SOCK (pid $(cat "$PIDFILE"))"
      return
    fi
    service_pid >/dev/null || break
    sleep 0.1
  done
  cat "$STATE/service.log" >&2 || true
  cmd_down
  die "podman system service did not answer on $SOCK"
}

cmd_down() {
  # Containers a test left behind (a killed jest worker): only this checkout's, by label.
  local ids
  ids="$(pm ps -aq --filter "label=$LABEL" 2>/dev/null || true)"
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    pm rm -f -t 0 $ids >/dev/null 2>&1 || true
  fi
  local pid
  if pid="$(service_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$SOCK"
}

cmd_run() {
  [ $# -gt 0 ] || die "usage: podman.sh run CMD..."
  local image
  image="$(cmd_image)"
  cmd_up
  trap cmd_down EXIT
  DOCKER_HOST="unix://$SOCK" TESTCONTAINERS_RYUK_DISABLED=true HOLDFAST_CONTAINERS_OWNER="$ROOT" \
    HOLDFAST_REDIS_PROVIDER=containers HOLDFAST_REDIS_IMAGE="$image" "$@"
}

case "${1:-}" in
  image) cmd_image ;;
  up) cmd_up ;;
  down) cmd_down ;;
  run)
    shift
    cmd_run "$@"
    ;;
  *) die "usage: podman.sh image|up|down|run CMD..." ;;
esac
