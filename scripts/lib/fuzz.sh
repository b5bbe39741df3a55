# shellcheck shell=bash
# The libFuzzer targets (fuzz/): their build and one run of one target. Requires common.sh (and
# build.sh for reelhub_build_fuzzers). Used by scripts/fuzz (long runs) and tests/fuzz/run.sh
# (scripts/test's short runs).

# The fuzz build: clang, every layer instrumented for the fuzzer, ASan + UBSan (CMake option
# REELHUB_FUZZ), in a build dir of its own: build/fuzz/fuzzers/<target>.
REELHUB_FUZZ_BUILD=build/fuzz

reelhub_build_fuzzers() {
  reelhub_build "$REELHUB_FUZZ_BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" -DREELHUB_FUZZ=ON -DREELHUB_TESTS=OFF
}

# The targets, one per fuzz/<target>.cpp.
reelhub_fuzz_targets() {
  local source
  for source in "$REELHUB_ROOT"/fuzz/*.cpp; do basename "$source" .cpp; done
}

# Runs fuzzer BINARY for SECONDS on CORPUS (a directory it adds new inputs to) plus the seeds in
# fuzz/corpus/<target> (only read). A crashing input goes to ARTIFACTS/; the exit status is the
# fuzzer's (0 when nothing was found). More libFuzzer flags may follow, e.g. -jobs=2.
reelhub_fuzz_run() {
  local binary=$1 seconds=$2 corpus=$3 artifacts=$4
  shift 4
  local target
  target=$(basename "$binary")
  mkdir -p "$corpus" "$artifacts"
  # -timeout: one input taking this long is a finding (a hang); -rss_limit_mb: so is this much memory.
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$corpus" "$REELHUB_ROOT/fuzz/corpus/$target"
}
