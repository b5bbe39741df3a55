# shellcheck shell=bash
# Configures (once per build dir) and builds Reelhub with CMake. Requires common.sh.
#
#   reelhub_build DIR [CMAKE_ARGS...]   e.g. reelhub_build build/release -DCMAKE_BUILD_TYPE=Release
#
# The cache of compiled objects lives outside the repository: CCACHE_DIR, default ~/.cache/ccache.

reelhub_build() {
  local dir=$REELHUB_ROOT/$1
  shift
  export CCACHE_DIR=${CCACHE_DIR:-${HOME:-/tmp}/.cache/ccache}
  # Paths relative to the checkout, so a fresh clone elsewhere (CI) still hits the cache; the
  # sloppiness settings let ccache cache translation units built with precompiled headers.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$REELHUB_ROOT}
  export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
  # Debug builds (-g) would otherwise hash the build directory into every entry: a checkout
  # elsewhere would miss. The cost is debug info naming the first checkout's directory.
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  # Each build dir has one fixed configuration; later CMakeLists changes re-run CMake by themselves.
  if [[ ! -f $dir/CMakeCache.txt || ! -f $dir/Makefile ]]; then
    reelhub_say "configuring $dir"
    cmake -S "$REELHUB_ROOT" -B "$dir" "$@" >/dev/null
  fi
  reelhub_say "building $dir"
  cmake --build "$dir" -j"$(nproc)"
}
