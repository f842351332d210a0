#!/usr/bin/env bash
# Builds the server and the WebAssembly front end (debug, or with --release the release build).
#   scripts/build.sh [--release]
# This is `cargo leptos build --split`: the front end is split into chunks, so the Settings pages (key dialogs,
# setup snippets) load on first use and every other page starts with a smaller module. The compiler flags,
# including the WebAssembly features the splitter needs, are in .cargo/config.toml; a RUSTFLAGS variable would
# replace them, so it is ignored here.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
  echo "scripts/build.sh: ignoring RUSTFLAGS (${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}): the flags are in .cargo/config.toml" >&2
  unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
fi
export LEPTOS_OUTPUT_NAME=caregate
profile=()
[ "${1:-}" = --release ] && profile=(--release)
cargo leptos build "${profile[@]}" --split
if [ "${1:-}" = --release ]; then
  for file in target/site/pkg/*.wasm target/site/pkg/caregate.js; do
    printf 'front end %-62s raw %8d bytes   brotli %7d bytes\n' "$(basename "$file")" "$(wc -c <"$file")" "$(brotli -c -q 11 "$file" | wc -c)"
  done
fi
