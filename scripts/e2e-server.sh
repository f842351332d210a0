#!/usr/bin/env bash
# Starts the freshly built caregate for the browser tests: a new SQLite database with the demo data, on the
# port given as $1. Playwright's webServer runs this; it expects `scripts/build.sh` to have run (or, with
# CAREGATE_E2E_PROFILE=release, `scripts/build.sh --release`).
set -euo pipefail
port="${1:-3100}"
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
# A fresh database at a known place, so tests can also drive the operator command against it.
data="$root/target/e2e"
rm -rf "$data"
mkdir -p "$data"
export DATABASE_URL="sqlite://$data/caregate.db?mode=rwc"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export LEPTOS_SITE_ROOT="$root/target/site"
export LEPTOS_OUTPUT_NAME=caregate
export CAREGATE_PUBLIC_URL="http://127.0.0.1:$port"
# Test-only, never in production: OAuth client metadata documents may be served from loopback, where the browser
# tests serve theirs (end2end/tests/oauth-clients.spec.ts) over https with a certificate of a test authority made
# here, which the server trusts for those documents only.
export CAREGATE_OAUTH_LOOPBACK_CLIENTS=1
ca="$data/oauth-ca"
mkdir -p "$ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=caregate e2e test authority" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -keyout "$ca/authority.key" -out "$ca/authority.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" -keyout "$ca/loopback.key" -out "$ca/loopback.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$ca/loopback.ext"
openssl x509 -req -in "$ca/loopback.csr" -CA "$ca/authority.pem" -CAkey "$ca/authority.key" -CAcreateserial -days 2 \
  -extfile "$ca/loopback.ext" -out "$ca/loopback.pem" 2>/dev/null
export CAREGATE_OAUTH_TEST_CA="$ca/authority.pem"
cd "$root"
bin="$target/${CAREGATE_E2E_PROFILE:-debug}/caregate"
"$bin" seed --demo
exec "$bin" serve
