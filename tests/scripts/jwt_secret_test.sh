#!/usr/bin/env bash
# scripts/run's JWT secret: generated once with mode 0600, 64 hex digits, and kept across runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/scripts/lib/common.sh"
source "$root/scripts/lib/secret.sh"

dir=$(mktemp -d)
trap 'rm -rf -- "$dir"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

first=$(reelhub_jwt_secret "$dir/var/jwt_secret")
[[ $first =~ ^[0-9a-f]{64}$ ]] || fail "secret is not 64 hex digits: '$first'"
[[ $(stat -c %a "$dir/var/jwt_secret") == 600 ]] || fail "mode is $(stat -c %a "$dir/var/jwt_secret"), not 600"
second=$(reelhub_jwt_secret "$dir/var/jwt_secret")
[[ $second == "$first" ]] || fail "a second run made a new secret"

other=$(reelhub_jwt_secret "$dir/elsewhere/jwt_secret")
[[ $other != "$first" ]] || fail "two checkouts got the same secret"

chmod 0644 "$dir/var/jwt_secret"
reelhub_jwt_secret "$dir/var/jwt_secret" >/dev/null
[[ $(stat -c %a "$dir/var/jwt_secret") == 600 ]] || fail "a readable secret file was not made private again"
echo "1 passed, 0 failed"
