# Shared helpers for the hil/ scripts (sourced, not run).
# shellcheck shell=bash

HIL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HIL_DIR/.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
HIL_IQN_PREFIX="iqn.2024-01.tapeconsole.hil"

log() { printf '[hil %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The kernel the guest boots: the newest Debian kernel installed under /boot with its modules.
guest_kernel_version() {
    local image version best=""
    for image in /boot/vmlinuz-*; do
        [ -e "$image" ] || continue
        version="${image#/boot/vmlinuz-}"
        [ -d "/lib/modules/$version" ] || continue
        best="$(printf '%s\n%s\n' "$best" "$version" | sed '/^$/d' | sort -V | tail -n1)"
    done
    [ -n "$best" ] || die "no kernel with modules under /boot and /lib/modules: run hil/setup"
    printf '%s\n' "$best"
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_tcp_port() {
    "$REPO_ROOT/.venv/bin/python" - <<'PY'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

# A tgtd management port (a Unix socket /var/run/tgtd/socket.N) that no running tgtd uses.
free_tgt_control_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((2000 + RANDOM % 30000))  # tgtd refuses control ports above 32767
        if [ ! -e "/var/run/tgtd/socket.$port" ] && [ ! -e "/var/run/tgtd/socket.$port.lock" ]; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "no free tgtd control port found"
}

# Wait for pid to exit, at most $2 seconds; returns 1 when it is still running.
wait_pid_gone() {
    local pid="$1" seconds="$2" _
    for _ in $(seq 1 $((seconds * 10))); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# Stop a process we started: SIGTERM, then SIGKILL after $2 seconds.
stop_pid() {
    local pid="$1" grace="${2:-5}"
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" "$grace" && return 0
    log "pid $pid did not stop after ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 5 || log "pid $pid is still running"
}
