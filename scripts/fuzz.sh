#!/usr/bin/env bash
# Fuzzes stockade's input parsers with cargo fuzz (libFuzzer):
#   model       model file parse + validation (stockade::parse_model, Network::new)
#   orlib_cap   OR-Library cap importer (with and without failure scenarios)
#   holmberg    Holmberg single-source CFLP importer
#   orlib_pmed  OR-Library p-median importer
#   rest_body   REST request bodies, through the checks the handlers run before storing anything
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, every target)
#        FUZZ_RUNS=10000000 scripts/fuzz.sh 0 model          (a fixed number of executions;
#                                                             FUZZ_MAX_S caps the time anyway)
# Seeds come from models/ and ../shared/benchmarks/. A crash leaves its input in
# fuzz/artifacts/TARGET/ and fails the script; turn it into a regression test in core/tests or
# server/tests (see core/tests/fuzz_regressions.rs). Runs at nice 19 (FUZZ_NICE to change): the
# machine is shared. The 1 s per-input limit is wall-clock time, so for a long run beside other
# work use FUZZ_NICE=0: at nice 19 a parallel build can starve an input of the CPU for a second
# (a 39 ms p-median input was once reported as a timeout that way).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(model orlib_cap holmberg orlib_pmed rest_body)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io" >&2
  cargo install -q cargo-fuzz --locked
fi
# cargo fuzz passes -Z flags to rustc. The machine's one toolchain (stable) is told to accept them
# (RUSTC_BOOTSTRAP; with --sanitizer none the instrumentation is stable codegen), so that CI and
# this machine take the same path whether or not a nightly toolchain happens to be installed.
TOOLCHAIN=()
export RUSTC_BOOTSTRAP=1
# The worktree's own target directory: no second copy of HiGHS' build tree elsewhere.
export CARGO_TARGET_DIR="$ROOT/target"

seed() { # target, files...
  local dir="fuzz/corpus/$1"
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] || continue
    # libFuzzer's default -max_len is 4 kB: keep each seed's first 4 kB (and the whole small ones).
    head -c 4096 "$f" >"$dir/seed-$(basename "$f")"
  done
}
B=../shared/benchmarks
seed model models/*.json core/tests/fixtures/*.json
seed orlib_cap $B/orlib-cap/cap41.txt $B/orlib-cap/cap71.txt
seed holmberg $B/holmberg-sscflp/p1 $B/holmberg-sscflp/p9
seed orlib_pmed $B/orlib-pmed/pmed1.txt
seed rest_body
# rest_body: first byte picks the route (0 jobs, 1 solve, 2 validate, 3 keys), then the body.
for m in models/*.json; do
  n=$(basename "$m" .json)
  { printf '\x00{"kind":"solve","model":'; head -c 3800 "$m"; printf '}'; } >"fuzz/corpus/rest_body/job-$n"
  { printf '\x01{"model":'; head -c 3800 "$m"; printf ',"settings":{"time_limit_s":1}}'; } >"fuzz/corpus/rest_body/solve-$n"
  { printf '\x02'; head -c 4000 "$m"; } >"fuzz/corpus/rest_body/validate-$n"
done
printf '\x03{"role":"planner","label":"x"}' >fuzz/corpus/rest_body/key

cd fuzz
status=0
for t in "${TARGETS[@]}"; do
  args=(-timeout=1 -rss_limit_mb=2048 -print_final_stats=1)
  if [ -n "${FUZZ_RUNS:-}" ]; then
    args+=(-runs="$FUZZ_RUNS" -max_total_time="${FUZZ_MAX_S:-0}")
  else
    args+=(-max_total_time="$SECONDS_PER_TARGET")
  fi
  echo "== fuzz $t (${FUZZ_RUNS:-${SECONDS_PER_TARGET}s})" >&2
  nice -n "${FUZZ_NICE:-19}" cargo "${TOOLCHAIN[@]}" fuzz run --sanitizer none --debug-assertions \
    --target-dir "$CARGO_TARGET_DIR" "$t" "corpus/$t" -- "${args[@]}" 2>"$ROOT/fuzz/$t.log" || status=1
  grep -E '^(stat::|#[0-9]+ +DONE|==[0-9]+== ERROR|SUMMARY|Done [0-9]+ runs)' "$ROOT/fuzz/$t.log" >&2 || true
  [ $status -eq 0 ] || { tail -40 "$ROOT/fuzz/$t.log" >&2; break; }
done
exit $status
