#!/usr/bin/env bash
# One short run of one fuzz target, as a ctest case (label `fuzz`):
#   run.sh BINARY SECONDS ARTIFACTS
# Starts from the seeds in fuzz/corpus/<target> with a throwaway corpus. Exits 125 (skipped) when
# BINARY was not built: scripts/test builds it; plain `ctest` in a build dir may not have. (Not 77,
# the usual skip code: libFuzzer exits 77 when it finds a crash.)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
source "$REELHUB_ROOT/scripts/lib/fuzz.sh"

binary=$1 seconds=$2 artifacts=$3
if [[ ! -x $binary ]]; then
  echo "fuzz target $binary not built (scripts/test or scripts/fuzz build it): skipped"
  exit 125
fi
corpus=$(mktemp -d "${TMPDIR:-/tmp}/reelhub-fuzz-corpus-XXXXXX")
trap 'rm -rf "$corpus"' EXIT
reelhub_fuzz_run "$binary" "$seconds" "$corpus" "$artifacts"
