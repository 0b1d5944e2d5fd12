#!/usr/bin/env bash
# Load and soak test of `stockade serve` on loopback: 100 concurrent clients for SECONDS (default
# 180) submitting small solve jobs, polling, cancelling, solving synchronously and listing, with
# the server's resident memory sampled every second (server/examples/load.rs --soak says what is
# checked). A throwaway SQLite database; everything is removed on exit.
#
# Usage: scripts/soak.sh [SECONDS] [CLIENTS]
#   PROFILE=release scripts/soak.sh 180    (the figures in .notes/issue-10.md; build first with
#                                          cargo build --release --bin stockade --example load)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-180}
CLIENTS=${2:-100}
PROFILE=${PROFILE:-debug}
BIN=$PWD/target/$PROFILE/stockade
LOAD=$PWD/target/$PROFILE/examples/load
[ -x "$BIN" ] && [ -x "$LOAD" ] || {
  echo "build first: cargo build $([ "$PROFILE" = release ] && echo --release) --bin stockade --example load" >&2
  exit 1
}
WORK=$(mktemp -d /tmp/stockade-soak.XXXXXX)
source scripts/served.sh
start_server soak planner --workers 2
rc=0
"$LOAD" --addr "${URL#http://}" --token "$TOKEN" --clients "$CLIENTS" --soak "$SECONDS_RUN" --pid "$SERVER" || rc=$?
if ! kill -0 "$SERVER" 2>/dev/null; then
  echo "FAIL the server died during the soak" >&2
  rc=1
fi
if [ "$rc" -ne 0 ]; then
  grep -E "ERROR|panicked" "$WORK/server.log" | tail -20 >&2 || true
fi
exit "$rc"
