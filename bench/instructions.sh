#!/usr/bin/env bash
# The warm path's work per call, counted in instructions rather than timed: `bench/run.sh instructions`.
# Runs the floor (bench/floor) and caregate (SQLite, demo data, one key, its budget lifted) each under
# valgrind's callgrind, makes 300 unmeasured MCP `whoami` calls, then counts the instructions the whole process
# (every thread) executes while BENCH_CALLS more (default 2 000) are made one after another over one
# connection. An instruction count is the same for the same binaries and requests whatever else the machine is
# doing, so it tells a change in the work per call apart from a change in the machine's load, which moves the
# req/s ratios of rows 0–2b by several points from run to run. It is not the #17 target (that is the req/s
# ratio, measured side by side in turns): time also goes to the kernel's sockets (the same for both), to
# caches and to the other threads' wake-ups. valgrind's virtual CPU has no SHA extensions, so the SHA-256 of
# caregate's token check runs in software here and counts more than it costs on a CPU with them.
# Expects the release binaries of bench/run.sh (BENCH_BUILD=0 skips building them, as there).
set -euo pipefail
shopt -s inherit_errexit
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CAREGATE_SECRET_KEY="${CAREGATE_SECRET_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}"
calls="${BENCH_CALLS:-2000}"
[[ "$calls" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_CALLS must be a whole number of at least 1" >&2; exit 1; }
command -v valgrind >/dev/null || { sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq valgrind >/dev/null; }
if [ "${BENCH_BUILD:-1}" != 0 ]; then
  scripts/build.sh --release >&2
  cargo build -q --release -p mcp-floor >&2
fi
bin="${CARGO_TARGET_DIR:-$root/target}/release/caregate"
floor_bin="${CARGO_TARGET_DIR:-$root/target}/release/mcp-floor"
work="$(mktemp -d)"
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

# counted NAME PORT TOKEN [VAR=VALUE...] COMMAND...: starts COMMAND (with those variables) under callgrind,
# waits until /api/mcp answers, makes the warm-up calls, zeroes the counts, makes the measured calls, dumps the
# counts and stops the server; prints instructions per call. (Run in a command substitution: the trap stops
# the server however it ends.)
counted() {
  local name="$1" port="$2" token="$3" variables=(); shift 3
  while [[ "${1:-}" == *=* ]]; do variables+=("$1"); shift; done
  env "${variables[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" EXIT
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || { echo "$name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/mcp")" = 401 ] && break
    sleep 0.2
  done
  python3 bench/helpers.py calls "$port" "$token" 300
  callgrind_control -z "$pid" >/dev/null
  python3 bench/helpers.py calls "$port" "$token" "$calls"
  callgrind_control -d "$pid" >/dev/null
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local total
  total="$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$work/$name.out.1")"
  [ -n "$total" ] || { echo "no counts from $name" >&2; exit 1; }
  echo $((total / calls))
}

url="sqlite://$work/instructions.db?mode=rwc"
env DATABASE_URL="$url" RUST_LOG=warn "$bin" seed --demo >/dev/null
key="$(DATABASE_URL="$url" RUST_LOG=warn "$bin" keys mint --email root@sunrise.test --label instructions --all-scopes)"
# The budget of bench/run.sh's rows (the highest a company may set), so that no call is refused.
python3 -c "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('UPDATE companies SET key_requests_per_minute = 1000000'); db.commit()" "$work/instructions.db"
floor_token="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

floor="$(counted floor 3700 "$floor_token" "$floor_bin" 127.0.0.1:3700 "$floor_token")"
caregate="$(counted caregate 3701 "$key" DATABASE_URL="$url" LEPTOS_SITE_ADDR=127.0.0.1:3701 LEPTOS_SITE_ROOT="$root/target/site" \
  LEPTOS_OUTPUT_NAME=caregate CAREGATE_PUBLIC_URL=http://127.0.0.1:3701 CAREGATE_METRICS_ADDR=127.0.0.1:4701 RUST_LOG=warn "$bin" serve)"

echo
echo "instructions per warm MCP whoami call (callgrind, all threads, $calls calls after 300 unmeasured; $(date -u +%F))"
echo
printf '| %-44s | %12s |\n' "server" "instructions" "$(printf -- '-%.0s' {1..44})" "$(printf -- '-%.0s' {1..12})"
printf '| %-44s | %12s |\n' "floor: minimal rmcp server, constant bearer" "$floor" "caregate, SQLite, warm key" "$caregate"
awk -v f="$floor" -v c="$caregate" 'BEGIN { printf "\nthe floor does %.0f%% of caregate'"'"'s work per call (caregate: %+.0f instructions per call)\n", 100 * f / c, c - f }'
