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
DB="sqlite://$WORK/soak.db"
TOKEN=$("$BIN" keys create --tenant soak --role planner --json --database-url "$DB" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
STOCKADE_LOG=warn "$BIN" serve --bind 127.0.0.1:0 --database-url "$DB" --workers 2 \
  >"$WORK/stdout" 2>"$WORK/server.log" &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 200); do
  grep -q "listening on" "$WORK/stdout" 2>/dev/null && break
  sleep 0.05
done
ADDR=$(sed -n 's|^stockade listening on http://||p' "$WORK/stdout")
[ -n "$ADDR" ] || { echo "the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
rc=0
"$LOAD" --addr "$ADDR" --token "$TOKEN" --clients "$CLIENTS" --soak "$SECONDS_RUN" --pid "$SERVER" || rc=$?
if ! kill -0 "$SERVER" 2>/dev/null; then
  echo "FAIL the server died during the soak" >&2
  rc=1
fi
if [ "$rc" -ne 0 ]; then
  grep -E "ERROR|panicked" "$WORK/server.log" | tail -20 >&2 || true
fi
exit "$rc"
