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
cd "$root"
bin="$target/${CAREGATE_E2E_PROFILE:-debug}/caregate"
"$bin" seed --demo
exec "$bin" serve
