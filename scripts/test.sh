#!/usr/bin/env bash
# `npm test`: installs what the tests need from Debian when it is missing, then runs lint,
# type-check, unit, integration and browser tests. Everything the project needs is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null || need+=(tmux)
command -v git >/dev/null || need+=(git)
# The vm-agent's forwarder out of each workspace's network namespace (vm-agent/egress/).
[ -x /usr/bin/socat ] || need+=(socat)
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} from Debian…" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "Go is required to build the Inngest server (or set INNGEST_BIN)" >&2; [ -n "${INNGEST_BIN:-}" ]; }

export NEXT_TELEMETRY_DISABLED=1
echo "== lint" >&2
npx eslint --max-warnings 0 .
node --import tsx scripts/check-lib-layers.ts
echo "== type-check" >&2
npx tsc --noEmit
echo "== unit tests" >&2
npx vitest run --project unit
echo "== build (shared by the integration and browser tests)" >&2
node --import tsx scripts/app-build.ts .next-test
export SKIP_NEXT_BUILD=1
echo "== integration tests" >&2
npx vitest run --project integration
echo "== chaos suite, fast part (npm run chaos runs each scenario 5 times)" >&2
npx vitest run --project chaos
echo "== browser tests" >&2
npx playwright test -c e2e/playwright.config.ts
