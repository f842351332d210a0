#!/usr/bin/env bash
# Runs every test: rustfmt and clippy with warnings as errors (server and WebAssembly builds), the Rust unit and
# integration tests of all crates (each integration test on SQLite and on PostgreSQL: the server named by
# CAREGATE_TEST_POSTGRES_URL, or else the machine's PostgreSQL 15, started by scripts/postgres.sh;
# CAREGATE_TEST_BACKENDS=sqlite leaves PostgreSQL out on purpose), the fault runs against the real server (a
# PostgreSQL outage when PostgreSQL is in use, and a 30-second soak), then the Playwright tests in Chromium
# against the debug build and against the release build with its split front end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh test

# cargo-leptos builds with this name; `cargo test` gets the same, and the compiler flags of .cargo/config.toml
# (which a RUSTFLAGS variable would replace), so both share one target dir instead of rebuilding the whole
# tree, and the `caregate` binary stays the one whose HTML matches the WebAssembly front end.
export LEPTOS_OUTPUT_NAME=caregate
if [ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
  echo "scripts/test.sh: ignoring RUSTFLAGS (${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}): the flags are in .cargo/config.toml" >&2
  unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
fi

echo "==> formatting (rustfmt.toml) and clippy (warnings are errors) on the server build and the WebAssembly front end"
cargo fmt --all -- --check
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p app -p frontend --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

# Every integration test runs on both backends and a PostgreSQL test without a server fails rather than pass
# unseen, so PostgreSQL is started here unless a server is named or PostgreSQL is left out on purpose.
if [ "${CAREGATE_TEST_BACKENDS:-}" = sqlite ]; then
  echo "==> Rust tests on SQLite only (CAREGATE_TEST_BACKENDS=sqlite)"
else
  if [ -z "${CAREGATE_TEST_POSTGRES_URL:-}" ]; then
    echo "==> starting PostgreSQL for the PostgreSQL tests (scripts/postgres.sh)"
    CAREGATE_TEST_POSTGRES_URL="$(scripts/postgres.sh)"
    export CAREGATE_TEST_POSTGRES_URL
  fi
  echo "==> Rust tests on SQLite and PostgreSQL"
fi
cargo test --workspace --exclude frontend

echo "==> building the server and the WebAssembly front end"
scripts/build.sh

if [ -n "${CAREGATE_TEST_POSTGRES_URL:-}" ]; then
  echo "==> fault run: PostgreSQL goes away and comes back"
  scripts/faults.sh outage
fi
echo "==> fault run: 200 sign-ins with 1 MiB emails leave memory bounded"
scripts/faults.sh hugeemails
echo "==> fault run: 30-second soak (scripts/faults.sh soak 300 is the long run)"
scripts/faults.sh soak 30

echo "==> browser tests (Playwright, Chromium) against the debug build"
(cd end2end && npx playwright test)

echo "==> release build (front end split into chunks) and the browser tests against it"
scripts/build.sh --release
(cd end2end && CAREGATE_E2E_PROFILE=release npx playwright test)
