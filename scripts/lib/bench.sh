# shellcheck shell=bash
# What the bench/*/run scripts share to read their reference tools' reports.
#
#   reelhub_parse_wrk FILE       prints: requests/s avg p50 p99 non-2xx socket-errors (wrk --latency)
#   reelhub_parse_pgbench FILE   prints: tps average-latency failed-transactions

reelhub_parse_wrk() {
  awk '
    /^Requests\/sec:/                   { rps = $2 }
    $1 == "Latency" && $2 ~ /^[0-9.]/  { avg = $2 }
    $1 == "50%"                         { p50 = $2 }
    $1 == "99%"                         { p99 = $2 }
    /Non-2xx or 3xx responses:/         { bad = $NF }
    /Socket errors:/                    { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %d %d\n", rps, avg, p50, p99, bad, errs }' "$1"
}

reelhub_parse_pgbench() {
  awk '
    /^tps = /                           { tps = sprintf("%.2f", $3) }
    /^latency average = /               { avg = sprintf("%.2fms", $4) }
    /^number of failed transactions:/   { failed = $5 }
    END { printf "%s %s %d\n", tps, avg, failed }' "$1"
}
