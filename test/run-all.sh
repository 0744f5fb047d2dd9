#!/usr/bin/env bash
# `npm test`: lint, then the typecheck (tsc and deno check, about a minute of one core)
# alongside every test file (vitest, whose files mostly wait on PostgreSQL and timers), so
# the typecheck uses the CPU the tests leave idle instead of running before them.
# Extra arguments go to vitest. Exits non-zero when any of the three fails.
set -uo pipefail
cd "$(dirname "$0")/.."

npm run -s lint || exit 1

log=$(mktemp)
npm run -s typecheck >"$log" 2>&1 &
typecheck_pid=$!

npx vitest run "$@"
tests=$?

wait "$typecheck_pid"
typecheck=$?
if [ "$typecheck" -ne 0 ]; then
  echo "typecheck failed (tsc --noEmit, deno check main.ts):"
  cat "$log"
else
  echo "typecheck passed (tsc --noEmit, deno check main.ts)"
fi
rm -f "$log"
[ "$tests" -eq 0 ] && [ "$typecheck" -eq 0 ]
