#!/usr/bin/env bash
# Builds caregate, loads the demo data (once) and serves it. Stop with Ctrl-C.
# DATABASE_URL, CAREGATE_PUBLIC_URL and LEPTOS_SITE_ADDR are honoured (see README).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh run
scripts/build.sh
target_dir="${CARGO_TARGET_DIR:-$root/target}"
"$target_dir/debug/caregate" seed --demo
exec "$target_dir/debug/caregate" serve
