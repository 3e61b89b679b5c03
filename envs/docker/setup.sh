#!/usr/bin/env bash
# Docker for the sandbox's docker backend, idempotent: run it as often as you like (CI runs it every time).
#
#   bash envs/docker/setup.sh [TASK ...]   install, start the engine, build the images that are absent
#   bash envs/docker/setup.sh stop         stop the engine this script started (images stay on disk)
#
# 1. docker.io and debootstrap from Debian's packages, if absent (needs root).
# 2. A private engine, unless one already answers on its socket: dockerd without a bridge or iptables
#    (containers get network_mode=none anyway; builds use the host network), with its own data root,
#    exec root, pidfile and unix socket. No systemd needed.
# 3. The base image agentrm-bench/base:bookworm, if absent: no registry can be pulled from, so it is a
#    debootstrap --variant=minbase root filesystem, imported.
# 4. The service image (and agentrm_bench/envs/<TASK>/docker/Dockerfile images, with the task's pip extra
#    from the task table, for TASK arguments), if absent or out of date, by `agentrm-bench sandbox build`
#    (needs the Docker SDK: pip install 'agentrm-bench[docker]').
# The Python side finds the engine at /run/agentrm-docker.sock by itself; set AGENTRM_DOCKER_HOST (or
# DOCKER_HOST) to use another. See envs/docker/README.md for the measured times.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA_ROOT="${AGENTRM_DOCKER_DATA_ROOT:-/var/lib/agentrm-docker}"
EXEC_ROOT="${AGENTRM_DOCKER_EXEC_ROOT:-/run/agentrm-docker}"
SOCK="${AGENTRM_DOCKER_SOCK:-/run/agentrm-docker.sock}"
PIDFILE="${EXEC_ROOT}.pid"
LOG="${AGENTRM_DOCKER_LOG:-/var/log/agentrm-dockerd.log}"
MIRROR="${AGENTRM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE="agentrm-bench/base:bookworm"
PYTHON="${PYTHON:-python}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '[docker setup] %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
dk() { "$DOCKER" -H "unix://$SOCK" "$@"; }
engine_up() { dk version >/dev/null 2>&1; }
engine_pid() { [ -f "$PIDFILE" ] && cat "$PIDFILE" 2>/dev/null || true; }
# A running (not zombie) process; a killed engine can linger as a zombie where pid 1 reaps slowly.
running() { local state; state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"; [ -n "$state" ] && [ "$state" != Z ]; }

if [ "${1:-}" = "stop" ]; then
    pid="$(engine_pid)"
    if [ -n "$pid" ] && running "$pid"; then
        kill "$pid"
        for _ in $(seq 1 100); do running "$pid" || break; sleep 0.2; done
        say "engine (pid $pid) stopped"
    else
        say "no engine started by this script is running"
    fi
    exit 0
fi

began="$(now)"

# 1. packages
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { say "docker.io and debootstrap are missing and installing them needs root"; exit 1; }
    t="$(date +%s)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
    say "installed docker.io and debootstrap ($(( $(date +%s) - t )) s)"
fi
DOCKER=/usr/bin/docker  # the client of the same Debian package as the engine
[ -x "$DOCKER" ] || DOCKER="$(command -v docker)"

# 2. engine
if engine_up; then
    say "engine already answers on unix://$SOCK"
else
    [ "$(id -u)" -eq 0 ] || { say "starting the engine needs root"; exit 1; }
    pid="$(engine_pid)"
    if [ -n "$pid" ] && running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
        say "engine (pid $pid) is starting; waiting for it"
    else
        rm -f "$PIDFILE"
        # A containerd left by a killed engine: stop it (it is ours) and drop its pidfile, which would
        # otherwise make the new engine wait for a containerd that is dead or a zombie.
        cpidfile="$EXEC_ROOT/containerd/containerd.pid"
        cpid="$(cat "$cpidfile" 2>/dev/null || true)"
        if [ -n "$cpid" ] && running "$cpid" && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" = containerd ]; then
            kill "$cpid"
            for _ in $(seq 1 50); do running "$cpid" || break; sleep 0.2; done
        fi
        rm -f "$cpidfile"
        mkdir -p "$DATA_ROOT" "$EXEC_ROOT" "$(dirname "$LOG")"
        t="$(now)"
        setsid nohup dockerd --bridge=none --iptables=false --ip6tables=false \
            --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE" \
            -H "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 300); do engine_up && break; sleep 0.2; done
    engine_up || { say "the engine did not answer within 60 s; its log ends:"; tail -20 "$LOG"; exit 1; }
    say "engine started on unix://$SOCK ($(since "${t:-$began}"))"
fi

# 3. base image
if dk image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE present"
else
    t="$(now)"
    rootfs="$(mktemp -d /var/tmp/agentrm-rootfs.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
        || { say "debootstrap failed; its log ends:"; tail -20 "$rootfs.log"; exit 1; }
    tar -C "$rootfs" -c . | dk import - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
    trap - EXIT
    say "base image $BASE_IMAGE built ($(since "$t"))"
fi

# 4. service image (+ task images)
t="$(now)"
AGENTRM_DOCKER_HOST="unix://$SOCK" PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
    "$PYTHON" -m agentrm_bench sandbox build "$@"
dk image prune -f >/dev/null  # intermediate images of failed builds on this private engine
say "images ready ($(since "$t")); all done in $(since "$began")"
