# shellcheck shell=bash disable=SC2154  # work and out_dir are set by the caller (see below)
# Live-streaming helpers shared by bench/live/run and bench/latency/run: the Reelhub server with an SRT listener, its API (streams) and playlists. Requires common.sh and
# pg.sh (a started cluster). The caller sets `work` (its temporary directory: logs, media root)
# and `out_dir` (kept after the run: the server log on failure); the functions set and read the
# globals `port`, `base`, `srt_port`, `server_pid` and `token`. JSON fields, free UDP ports and
# waiting for HTTP come from scripts/lib/bench.sh, which this file sources.

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/bench.sh"

# Prints the value of a number field of a JSON object (the last one of that name).
json_number() {
  { cat; printf '\n'; } | sed -nE "s/.*\"$1\"[[:space:]]*:[[:space:]]*(-?[0-9][0-9.eE+-]*).*/\1/p"
}
# Prints the integer part of number field $1 of the JSON object on stdin, 0 when absent.
json_int() {
  local v
  v=$(json_number "$1" | head -n 1)
  v=${v%%.*}
  printf '%s\n' "${v:-0}"
}

# The last lines of the server log about live streaming, for error messages.
server_log_tail() {
  printf -- '--- last live-related lines of the server log (%s/reelhub.log on exit):\n' "$out_dir" >&2
  grep -iE 'live|srt|stream|segment|error|warn' "$work/reelhub.log" | tail -n 25 >&2 || true
}
die_with_log() {
  server_log_tail
  reelhub_die "$*"
}

# api METHOD PATH [JSON]: prints the response body; dies with status and body unless 2xx.
api() {
  local method=$1 path=$2 data=${3:-} code
  local args=(-sS -o "$work/api.out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token")
  [[ -n $data ]] && args+=(-H 'Content-Type: application/json' -d "$data")
  code=$(curl "${args[@]}" "$base$path") || die_with_log "$method $path: curl failed"
  [[ $code == 2?? ]] || die_with_log "$method $path answered $code: $(head -c 400 "$work/api.out")"
  cat "$work/api.out"
}

# start_stream NAME: creates and starts a stream; prints "<stream id> <srt url>".
start_stream() {
  local created started id srt
  created=$(api POST /api/streams "{\"name\":\"$1\"}")
  id=$(json_field stream_id <<<"$created")
  [[ -n $id ]] || reelhub_die "POST /api/streams returned no stream_id: $created"
  started=$(api POST "/api/streams/$id/start")
  srt=$(json_field srt_url <<<"$started")
  [[ $srt == srt://127.0.0.1:"$srt_port"\?* ]] || reelhub_die "POST /api/streams/$id/start: unexpected srt_url: $started"
  printf '%s %s\n' "$id" "$srt"
}

stop_stream() { api POST "/api/streams/$1/stop" >/dev/null; }

# wait_playlist ID PUBLISHER_PID LOG SECONDS: waits until the playlist lists a segment.
wait_playlist() {
  local id=$1 pub=$2 log=$3 deadline=$((SECONDS + $4))
  while ((SECONDS < deadline)); do
    [[ $(curl -fs "$base/hls/$id/stream.m3u8" 2>/dev/null) == *segment_* ]] && return 0
    if ! kill -0 "$pub" 2>/dev/null; then
      printf -- '--- publisher log %s:\n' "$log" >&2
      tail -n 15 "$log" >&2 || true
      die_with_log "the publisher of stream $id exited before its playlist listed a segment"
    fi
    sleep 0.2
  done
  printf -- '--- GET /hls/%s/stream.m3u8: %s\n--- GET /stream/%s/status: %s\n--- publisher log:\n' "$id" \
    "$(curl -s "$base/hls/$id/stream.m3u8")" "$id" "$(curl -s "$base/stream/$id/status")" >&2
  tail -n 15 "$log" >&2 || true
  die_with_log "stream $id: no segment listed in its playlist within $4 s of publishing"
}

# start_reelhub BINARY [KEY=VALUE...]: `BINARY serve` on the database `reelhub` of the started
# cluster, HTTP and SRT on free ports of 127.0.0.1 (so srt_url points there), media under
# $work/media, rate limits raised to 10^9 a minute, a stream whose publisher left kept waiting for
# an hour; the extra settings override these. Sets port, srt_port, base, media and server_pid and
# waits until the server is ready. The JWT secret stays the same across restarts, so a token
# from register_streamer remains valid.
jwt_secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
start_reelhub() {
  local binary=$1
  shift
  local unlimited='{"limit":1000000000,"window_seconds":60}'
  port=$(reelhub_free_port)
  srt_port=$(free_udp_port)
  base=http://127.0.0.1:$port
  media=$work/media
  env DATABASE_URL="$(reelhub_pg_url reelhub)" \
    REELHUB_HTTP_PORT="$port" \
    REELHUB_SRT_PORT="$srt_port" \
    REELHUB_SRT_HOST=127.0.0.1 \
    REELHUB_PUBLIC_HOST=127.0.0.1 \
    REELHUB_MEDIA_ROOT="$media" \
    REELHUB_JWT_SECRET="$jwt_secret" \
    REELHUB_MODE=development \
    REELHUB_LOG_FORMAT=text \
    REELHUB_LIVE_WAITING_TIMEOUT_SECONDS=3600 \
    REELHUB_RATE_LIMITS="{\"general\":$unlimited,\"login\":$unlimited,\"register\":$unlimited,\"live\":$unlimited}" \
    "$@" "$binary" serve >>"$work/reelhub.log" 2>&1 &
  server_pid=$!
  wait_for_http "$base/health/ready" "$server_pid" reelhub
}

# Stops the server started by start_reelhub (SIGTERM: it finishes its streams' playlists).
stop_reelhub() {
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" || true
  server_pid=""
}

# Registers a user with role streamer and logs in: sets token.
register_streamer() {
  local user=bench_$RANDOM$RANDOM
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"bench-password-1\",\"role\":\"streamer\"}" \
    "$base/auth/register" || reelhub_die "registering the bench streamer failed"
  token=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"email\":\"$user@example.com\",\"password\":\"bench-password-1\"}" "$base/auth/login" | json_field access_token)
  [[ -n $token ]] || reelhub_die "login returned no access_token"
}
