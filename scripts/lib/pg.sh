# shellcheck shell=bash
# Throwaway or persistent PostgreSQL 15 clusters for the scripts. Requires common.sh.
#
#   reelhub_pg_start DIR MODE   MODE=test: speed over durability (fsync=off...), fresh initdb;
#                               MODE=durable: PostgreSQL's defaults, the cluster in DIR is reused
#                               (and left alone if it is already running).
#   reelhub_pg_stop             stops the cluster if this shell started it
#   reelhub_pg_remove           stops it and deletes DIR, for a DIR from reelhub_pg_temp_dir only
#   reelhub_pg_temp_dir         prints a new throwaway directory under /tmp
#   reelhub_pg_durable_dir DIR  prints DIR, or a stand-in the postgres user can reach (see below)
#   reelhub_pg_create_db NAME   creates the database if missing
#   reelhub_pg_url NAME         prints postgresql://postgres@127.0.0.1:PORT/NAME
#
# After reelhub_pg_start: REELHUB_PG_PORT, REELHUB_PG_DIR, REELHUB_PG_BIN are set. The cluster
# listens on 127.0.0.1 only, trusts local TCP connections as user `postgres`, and keeps its
# Unix socket inside its data directory (mode 0700, so clients use TCP).
# PostgreSQL refuses to run as root: when we are root, every server-side command runs as the
# `postgres` system user (created by the postgresql-15 package), so the cluster directory must be
# reachable by that user — /root is not (mode 0700).

REELHUB_PG_BIN=${REELHUB_PG_BIN:-/usr/lib/postgresql/15/bin}
REELHUB_PG_DIR=""
REELHUB_PG_PORT=""
REELHUB_PG_STARTED=0

# Runs a PostgreSQL server-side command as the cluster owner, from a directory it can read.
reelhub_pg_as_owner() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Makes DIR exist, owned by the cluster owner, mode 0700.
reelhub_pg_own_dir() {
  mkdir -p "$1"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$1"
  fi
  chmod 0700 "$1"
}

# Prints the persistent cluster directory to use for the wanted DIR: DIR itself when the postgres
# user can reach it, else /var/lib/reelhub-pg/<hash of DIR> (e.g. for a clone under /root).
reelhub_pg_durable_dir() {
  local wanted=$1 parent
  [[ $EUID -ne 0 ]] && { printf '%s\n' "$wanted"; return 0; }
  parent=$(dirname "$wanted")
  mkdir -p "$parent"
  if runuser -u postgres -- test -x "$parent" 2>/dev/null; then
    printf '%s\n' "$wanted"
  else
    printf '/var/lib/reelhub-pg/%s\n' "$(printf '%s' "$wanted" | sha256sum | cut -c1-16)"
  fi
}

# Server options for MODE. The socket goes into the data dir unless that path is too long for a
# Unix socket (107 bytes); then there is none, which is fine since every client uses TCP.
reelhub_pg_options() {
  local mode=$1 port=$2 data=$3 sockdir=$3
  ((${#data} + 15 > 107)) && sockdir=""
  local opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$sockdir'"
  if [[ $mode == test ]]; then
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  fi
  printf '%s\n' "$opts"
}

reelhub_pg_start() {
  local dir=$1 mode=$2
  [[ $mode == test || $mode == durable ]] || reelhub_die "reelhub_pg_start: bad mode '$mode'"
  [[ -x $REELHUB_PG_BIN/pg_ctl ]] || reelhub_die "PostgreSQL 15 not found in $REELHUB_PG_BIN"
  REELHUB_PG_DIR=$dir
  local data=$dir/data
  reelhub_pg_own_dir "$dir"
  reelhub_pg_as_owner test -w "$dir" || reelhub_die "the postgres user cannot write $dir"

  if [[ ! -f $data/PG_VERSION ]]; then
    local initdb_flags=(-D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8)
    [[ $mode == test ]] && initdb_flags+=(--no-sync)
    reelhub_pg_as_owner "$REELHUB_PG_BIN/initdb" "${initdb_flags[@]}" >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; reelhub_die "initdb failed in $data"; }
  fi

  # A durable cluster may already be running (another scripts/run): reuse it, leave it running.
  if reelhub_pg_as_owner "$REELHUB_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    REELHUB_PG_PORT=$(sed -n 4p "$data/postmaster.pid")
    reelhub_say "reusing the PostgreSQL cluster already running in $data on port $REELHUB_PG_PORT"
    return 0
  fi

  # Keep a durable cluster on its previous port when free, so a saved DATABASE_URL stays valid.
  local port attempt
  port=$(cat "$dir/port" 2>/dev/null || true)
  for attempt in 1 2 3 4 5; do
    if [[ -z $port ]] || reelhub_port_in_use "$port"; then
      port=$(reelhub_free_port)
    fi
    if reelhub_pg_as_owner "$REELHUB_PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "$(reelhub_pg_options "$mode" "$port" "$data")" start >/dev/null; then
      REELHUB_PG_PORT=$port
      REELHUB_PG_STARTED=1
      printf '%s\n' "$port" >"$dir/port"
      return 0
    fi
    port=""  # most likely lost a race for the port: pick another one
  done
  tail -n 20 "$dir/server.log" >&2 || true
  reelhub_die "PostgreSQL did not start (attempt $attempt); log: $dir/server.log"
}

reelhub_pg_stop() {
  ((REELHUB_PG_STARTED)) || return 0
  local how=fast
  [[ -f $REELHUB_PG_DIR/.throwaway ]] && how=immediate
  reelhub_pg_as_owner "$REELHUB_PG_BIN/pg_ctl" -D "$REELHUB_PG_DIR/data" -m "$how" -w -t 60 stop \
    >/dev/null || reelhub_say "warning: could not stop PostgreSQL in $REELHUB_PG_DIR"
  REELHUB_PG_STARTED=0
}

reelhub_pg_remove() {
  [[ -n $REELHUB_PG_DIR && -f $REELHUB_PG_DIR/.throwaway ]] || return 0
  reelhub_pg_stop
  rm -rf -- "$REELHUB_PG_DIR"
  REELHUB_PG_DIR=""
}

# /tmp is reachable by the postgres user wherever the repo is; the marker file is what allows
# reelhub_pg_remove to delete the directory, so a persistent cluster can never be removed by mistake.
reelhub_pg_temp_dir() {
  local dir
  dir=$(mktemp -d /tmp/reelhub-pg.XXXXXX)
  touch "$dir/.throwaway"
  printf '%s\n' "$dir"
}

reelhub_pg_url() {
  printf 'postgresql://postgres@127.0.0.1:%s/%s\n' "$REELHUB_PG_PORT" "$1"
}

reelhub_pg_create_db() {
  local name=$1 exists
  exists=$("$REELHUB_PG_BIN/psql" "$(reelhub_pg_url postgres)" -XtAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$name'")
  [[ $exists == 1 ]] || "$REELHUB_PG_BIN/createdb" -h 127.0.0.1 -p "$REELHUB_PG_PORT" -U postgres "$name"
}
