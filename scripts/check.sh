#!/usr/bin/env bash
# The quick check before a commit: formatting, lint and the plain test suite, as a contributor
# runs them. No root, no static binary, no Python, no Docker: the tests that need those are
# marked #[ignore] and run in scripts/test.sh, the full test command CI runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "format: cargo fmt --all -- --check"
cargo fmt --all -- --check

step "lint: cargo clippy --workspace --all-targets --locked -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "layers: no import cycle between src/'s modules (scripts/layers.sh)"
bash scripts/layers.sh >/dev/null

step "tests: cargo test --workspace --locked"
cargo test --workspace --locked

step "test command's portability decisions: scripts/test-portability.sh"
bash scripts/test-portability.sh
