#!/usr/bin/env bash
# Sweep throughput (variants per minute): one at a time against the worker pool, warm starts
# (MIP start from the nearest solved variant) against cold, and the Ray backend on a local
# two-CPU cluster. Not a test: figures go in the issue note.
#
#   bash benches/sweep/run.sh            # stoch-cflp cap71 with 50 failure scenarios, 16 variants
#   bash benches/sweep/run.sh --hard     # also Holmberg p25 (single source), 4 variants
#
# Needs target/debug/stockade (cargo build -p stockade-server) and, for Ray, python/.venv with the
# package and Ray installed (scripts/test.sh does both).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${STOCKADE_BIN:-target/debug/stockade}
BENCH=../shared/benchmarks
WORK=$(mktemp -d /tmp/stockade-sweep-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$BIN" import orlib-cap "$BENCH/orlib-cap/cap71.txt" \
  --failures "$BENCH/stoch-cflp/scenarios-cap71-S50.txt" > "$WORK/cap71-s50.json"
SETS_CAP71=(--set 'sites[w1].open_cost=5000:12500:2500' --set 'sites[w2].open_cost=5000:12500:2500')

run() { # name model args...
  local name=$1 model=$2
  shift 2
  local start end n
  start=$(date +%s.%N)
  "$BIN" sweep "$model" "$@" --csv "$WORK/out.csv" > /dev/null 2>&1
  end=$(date +%s.%N)
  n=$(($(wc -l < "$WORK/out.csv") - 1))
  python3 - "$name" "$n" "$start" "$end" "$WORK/out.csv" <<'PY'
import csv, sys
name, n, start, end, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rows = list(csv.DictReader(open(path)))
solve = sum(float(r["runtime_s"]) for r in rows)
obj = sum(float(r["objective"] or 0) for r in rows)
print(f"{name:<34} {n:>3} variants  {end - start:7.2f} s wall  {60 * n / (end - start):7.1f} variants/min"
      f"  (sum of solve times {solve:6.2f} s, sum of objectives {obj:.6g})")
PY
}

echo "cap71 + 50 failure scenarios (stoch-cflp), 4 x 4 grid of two open costs"
run "one at a time, cold (--jobs 1)" "$WORK/cap71-s50.json" "${SETS_CAP71[@]}" --jobs 1 --cold
run "one at a time, warm" "$WORK/cap71-s50.json" "${SETS_CAP71[@]}" --jobs 1
run "pool of 2, cold" "$WORK/cap71-s50.json" "${SETS_CAP71[@]}" --jobs 2 --cold
run "pool of 2, warm" "$WORK/cap71-s50.json" "${SETS_CAP71[@]}" --jobs 2

ray_run() { # model parameters-as-JSON
  if ! { [ -x python/.venv/bin/python ] && python/.venv/bin/python -c 'import ray, stockade' 2>/dev/null; }; then
    echo "Ray: skipped (python/.venv lacks ray or stockade)"
    return
  fi
  # From the scratch folder: Ray puts the driver's working directory on its workers' path.
  (cd "$WORK" && "$OLDPWD/python/.venv/bin/python" - "$1" "$2" <<'PY'
import json, sys, time
import ray, stockade
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
model = stockade.Model.from_json(sys.argv[1])
params = json.loads(sys.argv[2])
first = {k: [v[0] if isinstance(v, list) else float(v.split(":")[0])] for k, v in params.items()}
stockade.sweep(model, first, backend="ray")  # workers up, not timed
t = time.perf_counter()
df = stockade.sweep(model, params, backend="ray")
wall = time.perf_counter() - t
print(f"{'Ray, local cluster of 2 CPUs':<34} {len(df):>3} variants  {wall:7.2f} s wall  "
      f"{60 * len(df) / wall:7.1f} variants/min  (sum of solve times {df.runtime_s.sum():6.2f} s,"
      f" sum of objectives {df.objective.sum():.6g})")
ray.shutdown()
PY
  ) 2>&1 | grep -v -E "WARNING|INFO"
}
ray_run "$WORK/cap71-s50.json" '{"sites[w1].open_cost": "5000:12500:2500", "sites[w2].open_cost": "5000:12500:2500"}'

if [ "${1:-}" = "--hard" ]; then
  "$BIN" import holmberg "$BENCH/holmberg-sscflp/p25" > "$WORK/p25.json"
  SETS_P25=(--set 'sites[f1].open_cost=300:600:100')
  echo "Holmberg p25 (single source), 4 open costs of its first site"
  run "one at a time, cold" "$WORK/p25.json" "${SETS_P25[@]}" --jobs 1 --cold
  run "one at a time, warm" "$WORK/p25.json" "${SETS_P25[@]}" --jobs 1
  run "pool of 2, cold" "$WORK/p25.json" "${SETS_P25[@]}" --jobs 2 --cold
  run "pool of 2, warm" "$WORK/p25.json" "${SETS_P25[@]}" --jobs 2
  ray_run "$WORK/p25.json" '{"sites[f1].open_cost": "300:600:100"}'
fi
