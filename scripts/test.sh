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
cargo test --workspace
