#!/usr/bin/env bash
# Builds the server and the WebAssembly front end (debug, or with --release the release build).
#   scripts/build.sh [--release]
# The front end is split into chunks: the Settings pages (key dialogs, setup snippets) load on first use, so
# every other page starts with a smaller module. cargo-leptos 0.3.5's splitter cannot read wasm-bindgen's
# reference-type (externref) output, so the front end is compiled without the reference-types and multivalue
# WebAssembly features; the server is built on its own so its flags, and its artefacts shared with
# `cargo test`, stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
export LEPTOS_OUTPUT_NAME=caregate
profile=()
[ "${1:-}" = --release ] && profile=(--release)
cargo leptos build "${profile[@]}" --server-only
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=-reference-types,-multivalue" cargo leptos build "${profile[@]}" --split --frontend-only
if [ "${1:-}" = --release ]; then
  for file in target/site/pkg/*.wasm target/site/pkg/caregate.js; do
    printf 'front end %-62s raw %8d bytes   brotli %7d bytes\n' "$(basename "$file")" "$(wc -c <"$file")" "$(brotli -c -q 11 "$file" | wc -c)"
  done
fi
