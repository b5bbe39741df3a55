# shellcheck shell=bash disable=SC2154  # $work is the caller's
# What the bench scripts share (bench/http/run, bench/live/run, bench/hls/run, bench/ledger/run,
# bench/latency/run).
#
#   start_nginx ROOT [DIRECTIVES] / stop_nginx   the reference line's static file server
#   cpu_mark PID / cpu_since PID  server and load-client CPU over a run (sets cpu_server, cpu_client)
#   perf_begin NAME PID / perf_end NAME  a profile of the server over a run (BENCH_PERF set)
#   reelhub_parse_wrk FILE       prints: requests/s avg p50 p99 MiB/s non-2xx socket-errors (wrk --latency)
#   reelhub_parse_pgbench FILE   prints: tps average-latency failed-transactions
# Requires common.sh. The functions read the caller's $work (its temporary directory, where the
# logs of the processes it starts are written as $work/<what>.log).

# Prints the value of a string field of a JSON object (the last one of that name).
json_field() {
  sed -nE "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"([^\"]*)\".*/\1/p"
}

# Prints a UDP port nothing is bound to (for the SRT listener): not in /proc/net/udp{,6}.
free_udp_port() {
  local port hex attempt
  for attempt in $(seq 1 200); do
    port=$(reelhub_free_port)
    printf -v hex '%04X' "$port"
    if ! awk -v h=":$hex" 'NR > 1 && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' \
      /proc/net/udp /proc/net/udp6 2>/dev/null; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  reelhub_die "no free UDP port found after $attempt attempts"
}

# Polls URL until it answers 2xx; fails early if process PID dies. Gives up after 60 s.
wait_for_http() {
  local url=$1 pid=$2 what=$3 attempt
  for attempt in $(seq 1 600); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$work/$what.log" >&2 || true; reelhub_die "$what exited during start-up"; }
    sleep 0.1
  done
  reelhub_die "$what not ready at $url after $attempt attempts"
}

# start_nginx ROOT [SERVER_DIRECTIVES]: starts nginx as a static file server of ROOT on a free
# port (one worker per core, sendfile and tcp_nopush on, access log on like Reelhub's), sets
# nginx_port and nginx_pid. WAIT_PATH (default /) is polled until it answers 2xx.
start_nginx() {
  local root=$1 extra=${2:-} user=""
  mkdir -p "$work/nginx-tmp"
  nginx_port=$(reelhub_free_port)
  [[ $EUID -eq 0 ]] && user="user nobody nogroup;"
  cat >"$work/nginx.conf" <<CONF
$user
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx.log warn;
events { worker_connections 4096; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  keepalive_requests 1000000;
  sendfile on;
  tcp_nopush on;
  types { video/mp2t ts; application/vnd.apple.mpegurl m3u8; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $root;
    $extra
  }
}
CONF
  nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx.log" -g 'daemon off;' &
  nginx_pid=$!
  wait_for_http "http://127.0.0.1:$nginx_port${WAIT_PATH:-/}" "$nginx_pid" nginx
}

# Stops the nginx start_nginx started, if any.
stop_nginx() {
  if [[ -n ${nginx_pid:-} ]]; then
    kill -TERM "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null || true
  fi
  nginx_pid=""
}

# CPU time (user + system) of process PID in clock ticks, from /proc/PID/stat.
cpu_ticks() {
  local stat f
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }  # fields from 3 on (the command name may hold spaces)
  read -r -a f <<<"$stat"
  printf '%s\n' $((f[11] + f[12]))  # fields 14 utime and 15 stime
}

# CPU ticks of PID and its direct children (nginx's workers).
tree_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do total=$((total + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done
  printf '%s\n' "$total"
}

# children_cpu VAR: sets VAR to the CPU seconds of this shell's children so far (a child counts once
# it has been waited for). `times` must run in this shell: in a $(...) subshell it would count the
# subshell's own children, none.
children_cpu() {
  times >"$work/times.txt"
  printf -v "$1" '%s' "$(awk 'NR == 2 { gsub(/[ms]/, " "); printf "%.2f", $1 * 60 + $2 + $3 * 60 + $4 }' "$work/times.txt")"
}

# cpu_mark PID, then the load client runs in the foreground, then cpu_since PID sets cpu_server and
# cpu_client ("57%"): the CPU PID (with its direct children) and the load client used meanwhile,
# each in % of one core, so a reader sees whether the client, not the server, was the limit.
cpu_mark() {
  cpu_t0=$EPOCHREALTIME
  cpu_p0=$(tree_ticks "$1")
  children_cpu cpu_c0
}
cpu_since() {
  local t1=$EPOCHREALTIME p1 c1
  p1=$(tree_ticks "$1")
  children_cpu c1
  cpu_server=$(awk -v t0="$cpu_t0" -v t1="$t1" -v p0="$cpu_p0" -v p1="$p1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f%%", (p1 - p0) / hz / (t1 - t0) * 100 }')
  cpu_client=$(awk -v t0="$cpu_t0" -v t1="$t1" -v c0="$cpu_c0" -v c1="$c1" \
    'BEGIN { printf "%.0f%%", (c1 - c0) / (t1 - t0) * 100 }')
}

# perf_begin NAME PID: with BENCH_PERF set, records PID's call graphs (perf record -g, 499 Hz)
# until perf_end NAME, which writes the flat profile to $out_dir/perf-NAME.txt (data beside it).
perf_begin() {
  perf_pid=""
  [[ -n ${BENCH_PERF:-} ]] || return 0
  perf record -F 499 -g -p "$2" -o "$out_dir/perf-$1.data" >/dev/null 2>&1 &
  perf_pid=$!
}
perf_end() {
  [[ -n ${perf_pid:-} ]] || return 0
  kill -INT "$perf_pid" 2>/dev/null
  wait "$perf_pid" || true
  perf_pid=""
  perf report -i "$out_dir/perf-$1.data" --stdio --no-children --percent-limit 1.5 -g none \
    >"$out_dir/perf-$1.txt" 2>/dev/null || true
}

reelhub_parse_wrk() {
  awk '
    /^Requests\/sec:/                   { rps = $2 }
    /^Transfer\/sec:/                   { v = $2; mb = v + 0
                                          if (v ~ /GB$/) mb *= 1024; else if (v ~ /KB$/) mb /= 1024; else if (v ~ /[0-9]B$/) mb /= 1048576 }
    $1 == "Latency" && $2 ~ /^[0-9.]/  { avg = $2 }
    $1 == "50%"                         { p50 = $2 }
    $1 == "99%"                         { p99 = $2 }
    /Non-2xx or 3xx responses:/         { bad = $NF }
    /Socket errors:/                    { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %.1f %d %d\n", rps, avg, p50, p99, mb, bad, errs }' "$1"
}

reelhub_parse_pgbench() {
  awk '
    /^tps = /                           { tps = sprintf("%.2f", $3) }
    /^latency average = /               { avg = sprintf("%.2fms", $4) }
    /^number of failed transactions:/   { failed = $5 }
    END { printf "%s %s %d\n", tps, avg, failed }' "$1"
}
