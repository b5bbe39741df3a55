# shellcheck shell=bash
# Builds the web client (web/, a Vite + Preact app) into web/dist, which the server serves at /
# (web_root). Skipped when web/dist is newer than every source of it. Requires common.sh.

# The web client's npm packages, pinned by web/package-lock.json: npm ci when node_modules is
# missing or older than the lock file.
reelhub_install_web_deps() {
  local marker=web/node_modules/.package-lock.json
  [[ -f $marker && ! web/package-lock.json -nt $marker ]] && return 0
  command -v npm >/dev/null || reelhub_die "npm is required (Node.js 20.19+ or 22.12+) to build the web client"
  reelhub_say "installing the web client's npm packages (npm ci in web/)"
  (cd web && npm ci --no-audit --no-fund)
}

reelhub_build_web() {
  reelhub_install_web_deps
  local stamp=web/dist/index.html
  if [[ -f $stamp ]] &&
    [[ -z $(find web/src web/public web/index.html web/vite.config.ts web/tsconfig.json web/package-lock.json \
      web/scripts -newer "$stamp" -print -quit) ]]; then
    return 0
  fi
  reelhub_say "building the web client (web/dist)"
  (cd web && npm run --silent build)
}
