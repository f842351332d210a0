#!/usr/bin/env bash
# Installs whatever caregate needs and this machine lacks; safe to run again (it skips what is there).
#   scripts/setup.sh run   the toolchain to build and serve the app
#   scripts/setup.sh test  that, plus Chromium, the npm packages of the browser tests and their Python virtualenv
set -euo pipefail
purpose="${1:-run}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=no
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ "$apt_updated" = no ]; then sudo_if_needed apt-get update -qq; apt_updated=yes; fi
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v cargo >/dev/null || { echo "caregate needs Rust (rustup, cargo) first: https://rustup.rs" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Built without LTO: the install takes minutes instead of a quarter of an hour, and the tool runs the same.
fast_install() { CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"; }

if ! cargo leptos --version 2>/dev/null | grep -q ' 0\.3\.5$'; then
  say "installing cargo-leptos 0.3.5 (several minutes, once)"
  fast_install cargo-leptos@0.3.5 --locked
fi

bindgen_version="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${bindgen_version}\$"; then
  say "installing wasm-bindgen-cli ${bindgen_version} (several minutes, once)"
  # Not --locked: one of its locked dependencies is no longer in the registry.
  fast_install wasm-bindgen-cli --version "$bindgen_version"
fi

if [ "$purpose" = test ]; then
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  [ -x /usr/bin/chromium ] || apt_install chromium
  command -v wrk >/dev/null || apt_install wrk
  command -v wasm-opt >/dev/null || apt_install binaryen
  command -v brotli >/dev/null || apt_install brotli
  command -v curl >/dev/null || apt_install curl
  command -v python3 >/dev/null || apt_install python3
  command -v openssl >/dev/null || apt_install openssl
  lock="end2end/package-lock.json"
  stamp="end2end/node_modules/.caregate-installed"
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    say "installing the browser tests' npm packages"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
  # The official Python MCP SDK for the OAuth browser test (end2end/tests/oauth-clients.spec.ts), pinned in
  # end2end/python/requirements.txt, in a virtualenv of its own (gitignored); rebuilt when that file changes.
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  requirements="end2end/python/requirements.txt"
  venv="end2end/.venv"
  pystamp="$venv/.caregate-installed"
  if [ ! -f "$pystamp" ] || [ "$requirements" -nt "$pystamp" ] || ! "$venv/bin/python" -c 'import mcp.client.auth' 2>/dev/null; then
    say "installing the browser tests' Python packages (mcp) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
    touch "$pystamp"
  fi
fi
