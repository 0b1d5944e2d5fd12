#!/usr/bin/env bash
# Benders decomposition against HiGHS on the extensive form, in the same run (issue 7).
#
#   bash benches/benders/run.sh [--big] [--cap] [--threads N]
#
# stoch-cflp (shared/benchmarks/stoch-cflp) at S = 1000 with both methods, one thread each; with
# --big also S = 10,000 (scenarios drawn by the README's rule, numpy default_rng(42) < 0.05, whose
# first 1000 rows equal the published S = 1000 file: checked) with Benders alone, and the
# OR-Library capa/capb/capc instances at every published capacity with a 60 s limit. Prints
# wall time, peak memory (GNU time) and the objective of each run, and the speed-up as a ratio.
# --cap runs only the capa/capb/capc part (both methods, ~20 min). Each Benders run is checked
# against OR-Library's published optimum (capopt): proven optimal and equal, or the script fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bench="$root/../shared/benchmarks"
big=0
cap_only=0
threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --big) big=1 ;;
    --cap) cap_only=1 ;;
    --threads) threads="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
cargo build --release -q -p stockade-server --manifest-path "$root/Cargo.toml"
bin="$root/target/release/stockade"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() { # label model args...
  local label="$1" model="$2"; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" solve "$model" --json --threads "$threads" "$@" > "$work/out.json"
  read -r secs kb < "$work/time"
  python3 - "$label" "$secs" "$kb" "$work/out.json" <<'PY'
import json, sys
label, secs, kb, path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
gap = r.get("mip_gap")
print(f"{label:<34} {secs:>8.2f} s {kb/1024:>9.1f} MiB  {r['status']:<10} objective {r.get('objective') or float('nan'):.6f}  gap {100*(gap or 0):.4f}%  method {r.get('method')}")
PY
  echo "$secs" > "$work/last"
}


# OR-Library capopt: the published optimum of each instance and capacity.
declare -A published=(
  [capa-8000]=19240822.449 [capa-10000]=18438046.543 [capa-12000]=17765201.949 [capa-14000]=17160439.012
  [capb-5000]=13656379.578 [capb-6000]=13361927.449 [capb-7000]=13198556.434 [capb-8000]=13082516.496
  [capc-5000]=11646596.974 [capc-5750]=11570340.289 [capc-6500]=11518743.744 [capc-7250]=11505767.394
)
failed=0
capacitated() {
  echo "capa/capb/capc, 60 s limit each"
  declare -A caps=([capa]="8000 10000 12000 14000" [capb]="5000 6000 7000 8000" [capc]="5000 5750 6500 7250")
  for inst in capa capb capc; do
    for cap in ${caps[$inst]}; do
      "$bin" import orlib-cap "$bench/orlib-cap/$inst.txt" --capacity "$cap" > "$work/$inst-$cap.json"
      run "$inst capacity $cap extensive" "$work/$inst-$cap.json" --method extensive --time-limit 60
      run "$inst capacity $cap benders" "$work/$inst-$cap.json" --method benders --time-limit 60
      # Proven optimal, at the published optimum (1e-6 relative: capopt rounds to 3 decimals).
      python3 - "$work/out.json" "${published[$inst-$cap]}" <<'PY' || failed=1
import json, sys
r = json.load(open(sys.argv[1]))
opt = float(sys.argv[2])
ok = r["status"] == "optimal" and abs(r["objective"] - opt) <= 1e-6 * opt
print(f"  {'ok' if ok else 'MISSED'}: published optimum {opt}")
sys.exit(0 if ok else 1)
PY
    done
  done
}

if [ "$cap_only" = 1 ]; then
  capacitated
  exit $failed
fi

"$bin" import orlib-cap "$bench/orlib-cap/cap71.txt" --failures "$bench/stoch-cflp/scenarios-cap71-S1000.txt" > "$work/s1000.json"
echo "stoch-cflp S = 1000, $threads thread(s), gap 1e-6"
run "extensive" "$work/s1000.json" --method extensive
ext="$(cat "$work/last")"
run "benders" "$work/s1000.json" --method benders
ben="$(cat "$work/last")"
python3 -c "print(f'speed-up of benders over the extensive form: {$ext / $ben:.1f}x')"

if [ "$big" = 1 ]; then
  venv="$work/venv"
  python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy
  "$venv/bin/python" - "$bench/stoch-cflp/scenarios-cap71-S1000.txt" "$work/s10000.txt" <<'PY'
import sys
import numpy as np
fails = np.random.default_rng(seed=42).random((10000, 16)) < 0.05
lines = [" ".join(str(i) for i in np.nonzero(row)[0]) for row in fails]
published = open(sys.argv[1]).read().split("\n")[:1000]
assert lines[:1000] == published, "the rule does not reproduce the published S = 1000 file"
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
  "$bin" import orlib-cap "$bench/orlib-cap/cap71.txt" --failures "$work/s10000.txt" > "$work/s10000.json"
  echo "stoch-cflp S = 10000, gap 1e-3 (the issue's target) and 1e-6"
  run "benders S=10000 gap 1e-3" "$work/s10000.json" --method benders --gap 1e-3
  run "benders S=10000 gap 1e-6" "$work/s10000.json" --method benders
  capacitated
fi
exit $failed
