#!/usr/bin/env bash
# Every check and test of eureka-hook, in one command: the README gives it, CI runs it.
# It installs what the project needs (the musl target, rustfmt, clippy, the third-party
# Eureka client the tests talk to) and fails, saying what is missing, when it cannot.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
need() {
    command -v "$1" >/dev/null 2>&1 || { echo "test.sh: '$1' is required: $2" >&2; exit 1; }
}

need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "the real-client test runs py-eureka-client: install python3 and pip"
need gcc "ring needs a C compiler for the musl target: apt-get install gcc"
need chroot "the empty-root test uses chroot (coreutils)"

if command -v rustup >/dev/null 2>&1; then
    step "toolchain components"
    rustup component add rustfmt clippy >/dev/null
fi

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "static release binary"
static_bin="$(bash scripts/build-static.sh | tail -n 1)"
export EUREKA_HOOK_STATIC_BIN="$PWD/$static_bin"
ls -l "$EUREKA_HOOK_STATIC_BIN"

step "third-party Eureka client for the real-client test (py-eureka-client, into target/)"
py_client_version=0.13.3
py_client_dir="$PWD/target/py-eureka-client"
if [[ ! -f "$py_client_dir/.installed-$py_client_version" ]]; then
    python3 -m pip --version >/dev/null 2>&1 || { echo "test.sh: pip for python3 is required" >&2; exit 1; }
    rm -rf "$py_client_dir"
    python3 -m pip install --quiet --disable-pip-version-check --target "$py_client_dir" \
        "py-eureka-client==$py_client_version"
    touch "$py_client_dir/.installed-$py_client_version"
fi
export EUREKA_HOOK_PY_CLIENT_DIR="$py_client_dir"

step "tests (with those that need root, the static binary or python: --include-ignored)"
# The end-to-end tests mostly wait (drains, timeouts, cache timers), so more threads than cores.
cargo test --workspace --locked -- --include-ignored --test-threads 8
