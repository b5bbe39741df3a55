# shellcheck shell=bash
# The JWT secret of a local server: generated once, kept private under var/. Requires common.sh.

# Prints the secret kept in FILE; on first use creates it (64 random hex digits, mode 0600, written
# under a temporary name and renamed, so a crash never leaves a short secret). An existing
# non-empty file is kept, so tokens stay valid across restarts.
reelhub_jwt_secret() {
  local file=$1
  if [[ ! -s $file ]]; then
    mkdir -p "$(dirname "$file")"
    (
      umask 077
      od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file.tmp.$$"
      mv -f "$file.tmp.$$" "$file"
    ) || reelhub_die "cannot write the JWT secret to $file"
  fi
  chmod 0600 "$file"
  cat "$file"
}
