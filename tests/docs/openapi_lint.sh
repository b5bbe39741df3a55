#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly CLI (the version pinned in package-lock.json), using the
# rules in redocly.yaml. Installs the pinned CLI with `npm ci` when node_modules lacks it.
# Exits non-zero when the spec has any error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# No update notices or telemetry: the machine reaches only package registries.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true REDOCLY_SUPPRESS_UPDATE_NOTICE=true

if [[ ! -x node_modules/.bin/redocly ]]; then
  command -v npm >/dev/null || { echo "openapi_lint: npm is required (Node.js 20.19+ or 22.12+)" >&2; exit 1; }
  npm ci --no-audit --no-fund
fi
exec node_modules/.bin/redocly lint --config redocly.yaml docs/openapi.yaml
