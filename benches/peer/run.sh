#!/usr/bin/env bash
# Peer comparison of model-build time and peak memory (stockade, linopy, Pyomo, raw highspy).
# Makes its own venv in benches/peer/.venv (pinned requirements.txt), then runs compare.py with the
# given arguments, e.g.
#   bash benches/peer/run.sh --scenarios 1000 --repeat 3
#   bash benches/peer/run.sh --check
# Env: PYTHON (interpreter for the venv, default python3), STOCKADE_BIN (default
# target/release/stockade), STOCKADE_BENCH_DATA (default ../shared/benchmarks beside the repo).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "run.sh: setting up $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

exec "$venv/bin/python" "$here/compare.py" "$@"
