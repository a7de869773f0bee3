#!/usr/bin/env bash
# Build the release eureka-hook binary as a static x86_64 musl executable.
#
# This script is the one place that says how the shipped binary is built: the
# Dockerfile, the tests that need the release binary and the benchmark all call
# it, so they all get the same target, profile and flags.
#
# Usage: scripts/build-static.sh   (from any directory)
# Output: cargo's progress on stderr; the binary's path, relative to the repo
# root, is the last line on stdout:
#   target/x86_64-unknown-linux-musl/release/eureka-hook
#
# Environment:
#   CC_x86_64_unknown_linux_musl  C compiler for the musl target (ring builds C
#                                 code). Default: musl-gcc if installed, else gcc.
#   CARGO_TARGET_DIR              honoured; the printed path then starts with it
#                                 (a relative one is relative to the repo root).
set -euo pipefail

readonly TARGET=x86_64-unknown-linux-musl

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Add the Rust standard library for the musl target only when it is missing
# and rustup manages this toolchain (a distro or CI toolchain may ship it).
if command -v rustup >/dev/null 2>&1; then
    installed="$(rustup target list --installed 2>/dev/null || true)"
    if ! grep -qx "${TARGET}" <<<"${installed}"; then
        rustup target add "${TARGET}" >&2
    fi
fi

# ring (rustls' crypto) compiles C for the target, through the cc crate, which
# reads this variable. musl-gcc (Debian: musl-tools) is the proper compiler; the
# host's gcc also builds it for x86_64, and the Rust musl target links its own
# bundled musl libc and start files, so no musl toolchain has to be installed.
if [[ -z "${CC_x86_64_unknown_linux_musl:-}" ]]; then
    if command -v musl-gcc >/dev/null 2>&1; then
        CC_x86_64_unknown_linux_musl=musl-gcc
    else
        CC_x86_64_unknown_linux_musl=gcc
    fi
fi
export CC_x86_64_unknown_linux_musl

cargo build --release --locked --target "${TARGET}" -p eureka-hook >&2

bin="${CARGO_TARGET_DIR:-target}/${TARGET}/release/eureka-hook"
if [[ ! -x "${bin}" ]]; then
    echo "build-static.sh: cargo succeeded but ${bin} is missing" >&2
    exit 1
fi
echo "${bin}"
