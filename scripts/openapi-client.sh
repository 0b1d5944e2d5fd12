#!/usr/bin/env bash
# The OpenAPI document as a client sees it: the served /openapi.json must pass an OpenAPI 3.1
# validator (openapi-spec-validator), and a client generated from it (openapi-python-client) must
# solve cap41 to its published optimum, evaluate that plan as a job and read every answer into
# the generated, typed classes (scripts/openapi_client_check.py).
#
# Usage: scripts/openapi-client.sh
# Needs: target/debug/stockade (or STOCKADE_BIN); python/.venv with openapi-spec-validator and
# openapi-python-client (python/requirements-test.txt); ../shared/benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STOCKADE_BIN:-$PWD/target/debug/stockade}
VENV=${VENV:-$PWD/python/.venv}
WORK=$(mktemp -d /tmp/stockade-client.XXXXXX)
source scripts/served.sh
start_server acme admin --workers 1
"$VENV/bin/python" -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" \
  "$URL/openapi.json" >"$WORK/openapi.json"
"$VENV/bin/openapi-spec-validator" "$WORK/openapi.json"
"$VENV/bin/openapi-python-client" generate --path "$WORK/openapi.json" \
  --output-path "$WORK/stockade_client" --meta none >"$WORK/generate.log" 2>&1 ||
  { cat "$WORK/generate.log" >&2; exit 1; }
if grep -q "Unable to process" "$WORK/generate.log"; then
  echo "the client generator dropped schemas:" >&2
  cat "$WORK/generate.log" >&2
  exit 1
fi
"$BIN" import orlib-cap ../shared/benchmarks/orlib-cap/cap41.txt >"$WORK/cap41.json"
PYTHONPATH="$WORK" "$VENV/bin/python" scripts/openapi_client_check.py "$URL" "$TOKEN" "$WORK/cap41.json"
