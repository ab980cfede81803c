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

# Each phase prints its time as it ends, and all of them once more at the end.
started=$SECONDS
timings=()
phase() {
  local name=$1 at=$SECONDS
  shift
  echo "== $name" >&2
  "$@"
  local took=$((SECONDS - at))
  timings+=("$(printf '%-20s %4d s' "$name" "$took")")
  echo "== $name: ${took} s" >&2
}

# Lint (with the check that no two lib/ units import each other) and the type-check each keep one
# core busy: side by side, either failing fails the run.
static_checks() {
  local lint=0 types=0
  { npx eslint --max-warnings 0 . && node --import tsx scripts/check-lib-layers.ts; } &
  local lint_pid=$!
  npx tsc --noEmit &
  local types_pid=$!
  wait "$lint_pid" || lint=$?
  wait "$types_pid" || types=$?
  [ "$lint" = 0 ] || echo "lint failed" >&2
  [ "$types" = 0 ] || echo "type-check failed" >&2
  [ "$lint" = 0 ] && [ "$types" = 0 ]
}
phase "lint + types" static_checks

# One build, shared by the integration and browser tests. It runs beside the unit tests: neither
# keeps both cores busy all the time (the unit tests wait on processes, the build on its workers).
build_log=$(mktemp)
# In a process group of its own (setsid), so a failed run stops the whole build with it.
BUILD_LOG=$build_log setsid bash -c '
  started=$SECONDS status=0
  node --import tsx scripts/app-build.ts .next-test >"$BUILD_LOG" 2>&1 || status=$?
  echo "(the build beside the unit tests took $((SECONDS - started)) s)" >>"$BUILD_LOG"
  exit "$status"
' &
build_pid=$!
trap 'kill -- -"$build_pid" 2>/dev/null || true; rm -f "$build_log"' EXIT
phase unit npx vitest run --project unit --project unit:isolated
wait_for_build() {
  local status=0
  wait "$build_pid" || status=$?
  if [ "$status" != 0 ]; then
    cat "$build_log" >&2
    echo "the build failed" >&2
    return "$status"
  fi
  tail -n 1 "$build_log" >&2
}
phase "build (rest)" wait_for_build
export SKIP_NEXT_BUILD=1
# The integration and chaos files in one run: they share its two workers, so neither waits for the
# other's last file (chaos is the fast part: `npm run chaos` runs each scenario 5 times). The bursts
# of tasks at once (tests/chaos/load.test.ts) keep both cores to themselves, after the rest.
phase "integration + chaos" npx vitest run --project integration --project chaos --exclude tests/chaos/load.test.ts
phase "chaos under load" npx vitest run --project chaos tests/chaos/load.test.ts
phase browser npx playwright test -c e2e/playwright.config.ts

echo "== phase times" >&2
printf '%s\n' "${timings[@]}" >&2
echo "$(printf '%-20s %4d s' total $((SECONDS - started)))" >&2
