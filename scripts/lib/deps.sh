# shellcheck shell=bash
# Installs the Debian 12 packages Reelhub needs to build, test, run and benchmark. Idempotent and
# fast when everything is present: one dpkg-query, and apt-get only when something is missing.
# Requires common.sh.

REELHUB_DEB_PACKAGES=(
  # build + test (docs: STACK-NOTES.md)
  libboost1.81-dev libboost-url1.81-dev nlohmann-json3-dev libpqxx-dev
  libspdlog-dev libfmt-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libswresample-dev libavfilter-dev libsrt-gnutls-dev libsodium-dev libjwt-dev libssl-dev
  libgtest-dev postgresql-15 ffmpeg srt-tools pkg-config cmake g++ ccache
  # fuzz targets (fuzz/, scripts/fuzz): clang and its libFuzzer runtime
  clang libclang-rt-14-dev
  # the web client's browser tests (puppeteer-core drives it headless)
  chromium
  # benchmark and smoke checks
  wrk nginx-light curl
  # browser tests and bench/latency: hls.js plays the live stream in headless Chromium
  chromium
)

# Prints the packages of REELHUB_DEB_PACKAGES that are not installed, one per line.
reelhub_missing_packages() {
  local installed
  # Unknown packages make dpkg-query exit 1; they are simply absent from its output.
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${REELHUB_DEB_PACKAGES[@]}" 2>/dev/null |
    awk '$2 == "installed" {print $1}' || true)
  local pkg
  for pkg in "${REELHUB_DEB_PACKAGES[@]}"; do
    grep -qxF -- "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
  done
}

# The npm packages of package.json (the OpenAPI linter; s3rver, the S3 server the storage tests
# run against; puppeteer-core and hls.js, the browser tests' player), pinned by package-lock.json,
# into node_modules when one is missing.
reelhub_install_node_deps() {
  [[ -x node_modules/.bin/s3rver && -x node_modules/.bin/redocly && -d node_modules/puppeteer-core &&
    -f node_modules/hls.js/dist/hls.min.js ]] && return 0
  command -v npm >/dev/null || reelhub_die "npm is required (Node.js 20.19+ or 22.12+) for the storage and browser tests and the OpenAPI lint"
  reelhub_say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
}

reelhub_install_deps() {
  local missing
  mapfile -t missing < <(reelhub_missing_packages)
  ((${#missing[@]} == 0)) && return 0
  reelhub_say "installing missing Debian packages: ${missing[*]}"
  reelhub_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  reelhub_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
