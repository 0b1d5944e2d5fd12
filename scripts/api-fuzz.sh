#!/usr/bin/env bash
# schemathesis against the OpenAPI document the server itself serves (/openapi.json): every route
# and method, generated valid and invalid requests, with an admin API key. Checks: no 5xx, every
# response's status code, content type and body match the document.
#
# Usage: scripts/api-fuzz.sh [MAX_EXAMPLES_PER_OPERATION]   (default 30)
# Needs: target/debug/stockade (or STOCKADE_BIN) and schemathesis (python/.venv, or SCHEMATHESIS).
# The server runs on a loopback port with a throwaway SQLite database, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STOCKADE_BIN:-$PWD/target/debug/stockade}
ST=${SCHEMATHESIS:-$PWD/python/.venv/bin/schemathesis}
MAX_EXAMPLES=${1:-30}
WORK=$(mktemp -d /tmp/stockade-api.XXXXXX)
source scripts/served.sh
# Small limits keep generated solves short: 2 s per synchronous solve, 5 s per job, 2 workers.
start_server schemathesis admin --workers 2 --queue 64 --max-time-limit 5 --max-sync-time-limit 2
rc=0
# From the scratch folder: schemathesis keeps a cache (.schemathesis/) in the working directory.
(cd "$WORK" && "$ST" run "$URL/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" --seed 10 --workers 1 --request-timeout 30 \
  --generation-database none --no-color --report junit --report-dir "$WORK/report") || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "schemathesis failed; server log:" >&2
  grep -E "ERROR|panicked" "$WORK/server.log" | tail -20 >&2 || true
fi
exit "$rc"
