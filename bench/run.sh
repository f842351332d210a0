#!/usr/bin/env bash
# caregate's benchmark (not part of the test suite). Builds the release server, seeds a fresh database, and
# drives it with wrk from a separate process on loopback. Prints one table per backend.
#   bench/run.sh [sqlite|postgres|all]      (default: all; PostgreSQL needs root or sudo for scripts/postgres.sh)
# BENCH_SECONDS (default 10) sets each wrk run's length.
set -euo pipefail
# The servers and commands started here share one key for two-factor seeds (PostgreSQL runs need it).
export CAREGATE_SECRET_KEY="${CAREGATE_SECRET_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
which_backends="${1:-all}"
seconds="${BENCH_SECONDS:-10}"
scripts/setup.sh run
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
scripts/build.sh --release >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/caregate"
# The token format's one implementation forges the wrong secrets of the flood rows (domain's test-util).
cargo build -q --release -p domain --features test-util --example forge_secret >&2
forge="${CARGO_TARGET_DIR:-$root/target}/release/examples/forge_secret"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

rows=()
row() { rows+=("$(printf '| %-8s | %-52s | %10s | %8s | %8s | %8s | %s |' "$@")"); }

# wrk_run NAME URL CONNECTIONS [extra env...]: runs wrk and adds a row.
wrk_run() {
  local name="$1" url="$2" connections="$3"
  local out
  local threads=2; [ "$connections" -ge 2 ] || threads=1
  out="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s bench/wrk.lua "$url" 2>&1)"
  local line; line="$(grep '^BENCH ' <<<"$out")"
  local requests non2xx p50 p99 secs
  requests="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")"
  secs="$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")"
  non2xx="$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$line")"
  p50="$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")"
  p95="$(sed -n 's/.*p95_ms=\([0-9.]*\).*/\1/p' <<<"$line")"
  p99="$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")"
  LAST_REQUESTS="$requests"; LAST_NON2XX="$non2xx"; LAST_P95="$p95"
  LAST_RATE="$(awk -v r="$requests" -v s="$secs" 'BEGIN { printf "%.0f", r / s }')"
  row "$backend" "$name" "$(awk -v r="$requests" -v s="$secs" 'BEGIN { printf "%.0f", r / s }')" "$p50" "$p99" "$non2xx" "${4:-}"
}

# warm_up URL: three unmeasured seconds of the same load, so connections, prepared statements and the
# database's caches are warm before a measured run of a warm-path scenario.
warm_up() { wrk -t2 -c64 -d3s -s bench/wrk.lua "$1" >/dev/null 2>&1 || true; }

# start_server PORT DATABASE_URL [ENV...]: starts a release server and waits for /readyz.
start_server() {
  local port="$1" url="$2"; shift 2
  env DATABASE_URL="$url" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_OUTPUT_NAME=caregate \
    CAREGATE_PUBLIC_URL="http://127.0.0.1:$port" CAREGATE_METRICS_ADDR="127.0.0.1:$((port + 1000))" RUST_LOG=warn "$@" "$bin" serve >"$work/server-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "server on $port did not start" >&2; cat "$work/server-$port.log" >&2; exit 1
}

metric() { curl -s "http://127.0.0.1:$(($1 + 1000))/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

login() { # login PORT EMAIL → cookie
  curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$1/api/session/login" -H 'Accept: application/json' \
    --data-urlencode "email=$2" --data-urlencode 'password=caregate-demo' | sed -n 's/^[Ss]et-[Cc]ookie: \(caregate_session=[^;]*\).*/\1/p'
}

whoami='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
list_visits='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_visits","arguments":{}}}'

bench_backend() {
  backend="$1"; local url="$2"
  env DATABASE_URL="$url" RUST_LOG=warn "$bin" seed --demo >/dev/null
  local root_key caregiver_key
  root_key="$(DATABASE_URL="$url" RUST_LOG=warn "$bin" keys mint --email root@sunrise.test --label bench --all-scopes)"
  caregiver_key="$(DATABASE_URL="$url" RUST_LOG=warn "$bin" keys mint --email barbara@sunrise.test --label bench --all-scopes)"
  start_server 3400 "$url"
  local cookie; cookie="$(login 3400 root@sunrise.test)"
  curl -sf -X POST http://127.0.0.1:3400/api/keys/policy -H 'Content-Type: application/json' -H "Cookie: $cookie" \
    -d '{"policy":{"lifetime_days":90,"allow_non_expiring":false,"max_active_keys":10,"requests_per_minute":1000000}}' >/dev/null

  BENCH_METHOD=GET wrk_run "1 GET /healthz (floor)" http://127.0.0.1:3400/healthz 64
  export BENCH_METHOD=POST BENCH_BODY="$whoami" BENCH_AUTH="Bearer $root_key"
  warm_up http://127.0.0.1:3400/api/mcp
  wrk_run "2 MCP whoami, warm key" http://127.0.0.1:3400/api/mcp 64
  local key_rate; key_rate="$(awk -v r="$LAST_REQUESTS" 'BEGIN { print r }')"
  local access_token; access_token="$(python3 bench/helpers.py oauth-token 3400 root@sunrise.test)"
  BENCH_AUTH="Bearer $access_token" warm_up http://127.0.0.1:3400/api/mcp
  BENCH_AUTH="Bearer $access_token" wrk_run "2b MCP whoami, OAuth access token" http://127.0.0.1:3400/api/mcp 64
  rows[-1]="${rows[-1]% |} $(awk -v o="$LAST_REQUESTS" -v k="$key_rate" 'BEGIN { printf "%.0f%% of the key row", 100 * o / k }') (target >= 95%) |"
  start_server 3401 "$url" CAREGATE_WARM_PATH=off
  wrk_run "3 MCP whoami, argon2 every time (baseline)" http://127.0.0.1:3401/api/mcp 64
  wrk_run "3b cold verification: one client, argon2 every request" http://127.0.0.1:3401/api/mcp 1
  rows[-1]="${rows[-1]% |} target p99 <= 50 ms |"
  BENCH_BODY="$list_visits" BENCH_AUTH="Bearer $caregiver_key" warm_up http://127.0.0.1:3400/api/mcp
  BENCH_BODY="$list_visits" BENCH_AUTH="Bearer $caregiver_key" wrk_run "4 MCP list_visits, warm caregiver key" http://127.0.0.1:3400/api/mcp 64
  if [ "$backend" = sqlite ]; then
    # 4b: the same with disclosure recording off (CAREGATE_DISCLOSURES=off exists only for this comparison).
    local recording_rate="$LAST_RATE"
    start_server 3403 "$url" CAREGATE_DISCLOSURES=off
    BENCH_BODY="$list_visits" BENCH_AUTH="Bearer $caregiver_key" warm_up http://127.0.0.1:3403/api/mcp
    BENCH_BODY="$list_visits" BENCH_AUTH="Bearer $caregiver_key" wrk_run "4b MCP list_visits, disclosures not recorded" http://127.0.0.1:3403/api/mcp 64
    rows[-1]="${rows[-1]% |} recording costs $(awk -v on="$recording_rate" -v off="$LAST_RATE" 'BEGIN { printf "%.1f%%", 100 * (1 - on / off) }') of req/s (target <= 10%) |"
  fi

  local cold_before cold_after
  cold_before="$(metric 3400 'caregate_key_checks_total{path="cold"}')"
  BENCH_AUTH="Bearer cg_test_malformed" wrk_run "5a flood of malformed tokens" http://127.0.0.1:3400/api/mcp 64
  cold_after="$(metric 3400 'caregate_key_checks_total{path="cold"}')"
  rows[-1]="${rows[-1]% |} argon2 runs during flood: $((cold_after - cold_before)) |"
  cold_before="$cold_after"
  BENCH_AUTH="Bearer $("$forge" "$root_key")" wrk_run "5b flood of wrong secrets for a real Key ID" http://127.0.0.1:3400/api/mcp 64
  cold_after="$(metric 3400 'caregate_key_checks_total{path="cold"}')"
  rows[-1]="${rows[-1]% |} argon2 runs during ${seconds}s flood: $((cold_after - cold_before)) |"

  if [ "$backend" = postgres ]; then
    # 6: revoke on node A while a client hammers node B; count what B accepts after the revoke returned.
    start_server 3402 "$url"
    local victim; victim="$(DATABASE_URL="$url" RUST_LOG=warn "$bin" keys mint --email office@sunrise.test --label victim --all-scopes)"
    BENCH_BODY="$whoami" BENCH_AUTH="Bearer $victim" wrk_run "6a node B before the revoke (warm)" http://127.0.0.1:3402/api/mcp 64
    curl -sf -X POST http://127.0.0.1:3400/api/keys/revoke -H 'Accept: application/json' -H "Cookie: $cookie" \
      --data-urlencode "key_id=${victim:8:8}" >/dev/null
    BENCH_BODY="$whoami" BENCH_AUTH="Bearer $victim" wrk_run "6b node B after node A's revoke returned" http://127.0.0.1:3402/api/mcp 64
    rows[-1]="${rows[-1]% |} accepted after revoke: $((LAST_REQUESTS - LAST_NON2XX)) |"
  fi

  # 7: scale — 100 000 keys and 1 000 000 activity events.
  if [ "$backend" = sqlite ]; then
    local file="${url#sqlite://}"
    python3 bench/helpers.py scale-sqlite "${file%%\?*}"
    python3 bench/helpers.py scale-disclosures-sqlite "${file%%\?*}"
  else
    psql -q "$url" <<'SQL'
INSERT INTO api_keys (key_id, company_id, user_id, label, secret_hash, scopes, created_at, expires_at)
SELECT 'S' || lpad(i::text, 7, '0'), 1, 1 + (i % 4), 'Scale key ' || i, 'x', 'read:visits', now() - (i + 3600) * interval '1 second', NULL
FROM generate_series(1, 100000) AS i;
INSERT INTO activity_events (company_id, actor_user_id, key_id, action, target, ip, user_agent, created_at)
SELECT 1, 1 + (i % 4), 'S' || lpad((1 + i % 100000)::text, 7, '0'), 'key.used', 'MCP tool whoami', '127.0.0.1', 'bench', now() - (i + 3600) * interval '1 second'
FROM generate_series(1, 1000000) AS i;
ANALYZE;
SQL
  fi
  export BENCH_BODY="$whoami" BENCH_AUTH="Bearer $root_key"
  warm_up http://127.0.0.1:3400/api/mcp
  wrk_run "7a MCP whoami, warm, 100k keys + 1M events" http://127.0.0.1:3400/api/mcp 64
  export BENCH_AUTH="" BENCH_COOKIE="$cookie" BENCH_BODY='{"filter":{"user_id":null,"status":null,"search":null,"page":1,"per_page":20}}'
  wrk_run "7b Root keys list page (100k keys)" http://127.0.0.1:3400/api/keys/list 8
  rows[-1]="${rows[-1]% |} p95 ${LAST_P95} ms (target < 100) |"
  BENCH_BODY='{"filter":{"user_id":null,"key_id":null,"page":1,"per_page":50}}' wrk_run "7c Root activity feed page (1M events)" http://127.0.0.1:3400/api/activity/list 8
  rows[-1]="${rows[-1]% |} p95 ${LAST_P95} ms (target < 100) |"
  if [ "$backend" = sqlite ]; then
    local patient; patient="$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT min(id) FROM patients WHERE company_id = 1").fetchone()[0])' "${file%%\?*}")"
    BENCH_BODY="{\"filter\":{\"patient_id\":$patient,\"key_id\":null,\"from\":null,\"to\":null,\"page\":1,\"per_page\":50}}" \
      wrk_run "7d Disclosures panel, one patient (1M disclosures)" http://127.0.0.1:3400/api/disclosures/list 8
    rows[-1]="${rows[-1]% |} p95 ${LAST_P95} ms (target < 100) |"
  fi
  unset BENCH_COOKIE BENCH_BODY BENCH_AUTH BENCH_METHOD
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pids=()
  sleep 1
}

if [ "$which_backends" != postgres ]; then
  bench_backend sqlite "sqlite://$work/bench.db?mode=rwc"
fi
if [ "$which_backends" != sqlite ]; then
  pg="$(scripts/postgres.sh)"
  name="caregate_bench_$$"
  psql -q "$pg" -c "CREATE DATABASE $name" >/dev/null
  bench_backend postgres "${pg%/*}/$name"
  psql -q "$pg" -c "DROP DATABASE $name" >/dev/null || true
fi

echo
echo "caregate benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), wrk -t2 -d${seconds}s --latency on loopback"
echo
echo "| backend  | scenario                                             |  req/s     | p50 ms   | p99 ms   | non-2xx  | note |"
echo "|----------|------------------------------------------------------|-----------:|---------:|---------:|---------:|------|"
printf '%s\n' "${rows[@]}"
echo
pkg="$root/target/site/pkg"
for file in "$pkg"/*.wasm "$pkg/caregate.js"; do
  printf 'front end %-62s raw %8d bytes   brotli %7d bytes\n' "$(basename "$file")" "$(wc -c <"$file")" "$(brotli -c -q 11 "$file" | wc -c)"
done
echo "(caregate.wasm loads with every page; the split___*_settings_route_view chunks and the chunk they share load on first opening a Settings page)"
