#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests of all crates (SQLite, and PostgreSQL too when
# CAREGATE_TEST_POSTGRES_URL names a server), then the Playwright tests in Chromium against a fresh build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh test

# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set; setting it here too lets both builds share one target dir.
export LEPTOS_OUTPUT_NAME=caregate

echo "==> building the server and the WebAssembly front end"
cargo leptos build

if [ -n "${CAREGATE_TEST_POSTGRES_URL:-}" ]; then
  echo "==> Rust tests on SQLite and PostgreSQL"
else
  echo "==> Rust tests on SQLite (set CAREGATE_TEST_POSTGRES_URL for the PostgreSQL pass)"
fi
cargo test --workspace --exclude frontend

echo "==> browser tests (Playwright, Chromium)"
cd end2end
npx playwright test
