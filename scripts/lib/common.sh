# shellcheck shell=bash
# Shared helpers for scripts/run, scripts/test and bench/http/run. Source it; it defines functions only
# (plus REELHUB_ROOT, the repository root).

# shellcheck disable=SC2034  # used by the scripts that source this file
REELHUB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Progress messages go to stderr so they never mix with output a caller captures.
reelhub_say() { printf '[reelhub] %s\n' "$*" >&2; }
reelhub_die() { printf '[reelhub] error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
reelhub_as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    reelhub_die "need root (or sudo) to run: $*"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
reelhub_port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a TCP port on 127.0.0.1 that nothing listens on. The range sits below Linux's ephemeral
# range (32768+) so an outgoing connection cannot be holding it; callers still retry on a lost race.
reelhub_free_port() {
  local port attempt
  for attempt in $(seq 1 200); do
    port=$((15000 + (RANDOM * 32768 + RANDOM) % 17000))
    if ! reelhub_port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  reelhub_die "no free TCP port found after $attempt attempts"
}

# Runs "$@" in its own process group and waits for it, forwarding SIGINT/SIGTERM/SIGHUP as one
# SIGTERM to that whole group. Its own group means a terminal's Ctrl-C reaches only this script,
# so the child sees exactly one signal and can shut down gracefully. Returns the child's status.
reelhub_run_forwarding() {
  local pid status
  set -m
  "$@" &
  pid=$!
  set +m
  # shellcheck disable=SC2064  # expand $pid now
  trap "kill -TERM -- -$pid 2>/dev/null || true" INT TERM HUP
  while :; do
    status=0
    wait "$pid" || status=$?
    kill -0 "$pid" 2>/dev/null || break  # wait was only interrupted by a forwarded signal
  done
  trap - INT TERM HUP
  return "$status"
}
