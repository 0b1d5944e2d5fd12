#!/usr/bin/env bash
# Runs every test of stockade: formatting, lints, and the test suites against published optima.
# Installs what a fresh Debian/Ubuntu machine lacks to build HiGHS (cmake, libclang-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (needed to build HiGHS)" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! [ -d ../shared/benchmarks ]; then
  echo "../shared/benchmarks is missing: the tests check against the published optima kept there" >&2
  exit 1
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# PostgreSQL for the job store's tests (server/tests): a throwaway server on 127.0.0.1, run as
# the postgres user (initdb refuses root), removed on exit. The tests read its URL from
# STOCKADE_TEST_POSTGRES_URL; set it yourself to use another server.
if [ -z "${STOCKADE_TEST_POSTGRES_URL:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing postgresql (for the job store's tests)" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_DIR=$(mktemp -d /tmp/stockade-pg.XXXXXX)
  as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  for PG_PORT in 54329 54339 54349 54359; do
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null; then
      break
    fi
  done
  trap 'as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1; rm -rf "$PG_DIR"' EXIT
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q \
    -c "CREATE ROLE stockade LOGIN PASSWORD 'stockade' CREATEDB" \
    -c "CREATE DATABASE stockade OWNER stockade"
  export STOCKADE_TEST_POSTGRES_URL="postgres://stockade:stockade@127.0.0.1:$PG_PORT/stockade"
  echo "PostgreSQL for the store tests at 127.0.0.1:$PG_PORT" >&2
fi
cargo test --workspace

# Python bindings (python/): build the wheel exactly as a user would (`pip install ./python`, into
# python/.venv, sharing the workspace's target directory), then pytest: published optima, the
# CLI's answers, Ctrl-C, plots, type stubs and the example notebook.
python_tests() {
  local py=python3 venv=python/.venv
  if ! "$py" -m venv --help >/dev/null 2>&1 || ! "$py" -c 'import ensurepip' >/dev/null 2>&1; then
    echo "installing python3-venv (needed for the Python bindings' tests)" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r python/requirements-test.txt
  # Ray, for the sweep's Ray backend: tests/test_sweep.py starts a real two-CPU local cluster.
  # The package imports Ray only when backend="ray" is asked for.
  "$venv/bin/python" -m pip install -q "ray==2.60.0"
  CARGO_TARGET_DIR="$PWD/target" "$venv/bin/python" -m pip install -q --force-reinstall --no-deps ./python
  # The tests compare with the command line built from the same sources.
  cargo build -q --bin stockade
  local rc=0
  # The `pytest` script, not `python -m pytest`: the installed wheel is under test, not the
  # source folder python/stockade (which has no native module in a fresh clone).
  (cd python && STOCKADE_CLI="$PWD/../target/debug/stockade" .venv/bin/pytest -q tests) || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests in python/tests" >&2
    return 1
  fi
  return "$rc"
}
python_tests

# The REST API against its own OpenAPI document (schemathesis, installed in python/.venv from
# python/requirements-test.txt): no 5xx, every response as documented. A few seconds.
bash scripts/api-fuzz.sh 30
# The OpenAPI document through a generated client: an OpenAPI 3.1 validator, then a client from
# openapi-python-client solving cap41 to its published optimum with typed answers.
bash scripts/openapi-client.sh

# Load: 100 concurrent clients, mixed solves, polls and cancellations, for 20 s (the full soak is
# scripts/soak.sh); fails on any error besides 429, a lost job or memory growth.
cargo build -q --bin stockade --example load
bash scripts/soak.sh 20

# Fuzz smoke: every cargo-fuzz target for 30 s (scripts/fuzz.sh; the long runs are in the note).
bash scripts/fuzz.sh 30
