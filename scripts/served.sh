# Sourced by the scripts that test a running `stockade serve` (api-fuzz.sh, soak.sh):
#   start_server TENANT ROLE [serve options...]
# With BIN (the stockade binary) and WORK (a scratch folder) set, creates an API key in a throwaway
# SQLite database in WORK, starts the server on a loopback port and waits for it; sets TOKEN,
# SERVER (its pid) and URL (http://127.0.0.1:PORT). On exit the server is stopped and WORK removed.
stop_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}

start_server() {
  local tenant=$1 role=$2
  shift 2
  local db="sqlite://$WORK/server.db"
  TOKEN=$("$BIN" keys create --tenant "$tenant" --role "$role" --json --database-url "$db" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  STOCKADE_LOG=warn "$BIN" serve --bind 127.0.0.1:0 --database-url "$db" "$@" \
    >"$WORK/stdout" 2>"$WORK/server.log" &
  SERVER=$!
  trap stop_server EXIT
  for _ in $(seq 200); do
    grep -q "listening on" "$WORK/stdout" 2>/dev/null && break
    sleep 0.05
  done
  URL=$(sed -n 's/^stockade listening on //p' "$WORK/stdout")
  [ -n "$URL" ] || { echo "the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
}
