#!/usr/bin/env bash
# Build the release eureka-hook binary as a static musl executable, for x86_64 or aarch64.
#
# This script is the one place that says how the shipped binary is built: the
# Dockerfile, scripts/dist.sh, the tests that need the release binary and the
# benchmark all call it, so they all get the same targets, profile and flags.
#
# Usage: scripts/build-static.sh [TARGET]   (from any directory)
#   TARGET  x86_64-unknown-linux-musl (the default) or aarch64-unknown-linux-musl
# Output: cargo's progress on stderr; the binary's path, relative to the repo
# root, is the last line on stdout:
#   target/x86_64-unknown-linux-musl/release/eureka-hook
#
# A target of another architecture than the build machine's is cross-compiled:
# ring (rustls' crypto) compiles C with Debian's cross gcc for that architecture
# and its libc headers (gcc-aarch64-linux-gnu and libc6-dev-arm64-cross, or
# gcc-x86-64-linux-gnu and libc6-dev-amd64-cross, installed with apt-get when
# missing and running as root), and rust-lld, which rustup ships with the
# toolchain, links against the musl libc that the Rust target bundles.
#
# Environment:
#   CC_<target>                   C compiler for the target (cc crate convention);
#                                 the script's choice is used only when unset.
#   CARGO_TARGET_<TARGET>_LINKER  linker for the target (cargo's own variable).
#   CARGO_BUILD                   cargo subcommand to build with: "build" (default)
#                                 or "auditable build" (scripts/dist.sh).
#   CARGO_TARGET_DIR              honoured; the printed path then starts with it
#                                 (a relative one is relative to the repo root).
set -euo pipefail

readonly TARGET="${1:-x86_64-unknown-linux-musl}"

fail() { echo "build-static.sh: $*" >&2; exit 1; }

case "${TARGET}" in
    x86_64-unknown-linux-musl) target_arch=x86_64 debian_cross="gcc-x86-64-linux-gnu libc6-dev-amd64-cross" ;;
    aarch64-unknown-linux-musl) target_arch=aarch64 debian_cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
    *) fail "unsupported target '${TARGET}': use x86_64-unknown-linux-musl or aarch64-unknown-linux-musl" ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Add the Rust standard library for the target only when it is missing and
# rustup manages this toolchain (a distro or CI toolchain may ship it).
if command -v rustup >/dev/null 2>&1; then
    installed="$(rustup target list --installed 2>/dev/null || true)"
    if ! grep -qx "${TARGET}" <<<"${installed}"; then
        rustup target add "${TARGET}" >&2
    fi
elif ! rustc --print target-libdir --target "${TARGET}" >/dev/null 2>&1; then
    fail "the Rust standard library for ${TARGET} is missing and there is no rustup to add it"
fi

# Installs Debian packages (as root) when `file` is missing; says what to install otherwise.
install_for() {
    local file="$1" packages="$2"
    [[ -e "${file}" ]] && return 0
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "build-static.sh: installing ${packages} for ${file}" >&2
        # A fresh machine or image has no package lists yet.
        # shellcheck disable=SC2086 # the package list splits on purpose
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages} >&2; then
            apt-get update >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages} >&2
        fi
    fi
    [[ -e "${file}" ]] \
        || fail "${TARGET} needs ${file}: install it (Debian: apt-get install ${packages}) or set CC_${TARGET//-/_}"
}

cc_var="CC_${TARGET//-/_}"
ar_var="AR_${TARGET//-/_}"
linker_var="CARGO_TARGET_$(tr '[:lower:]-' '[:upper:]_' <<<"${TARGET}")_LINKER"

if [[ "$(uname -m)" == "${target_arch}" ]]; then
    # Native: ring's C builds with musl-gcc (Debian: musl-tools) or the host's gcc; the
    # Rust musl target links its own bundled musl libc and start files, so no musl
    # toolchain has to be installed.
    if [[ -z "${!cc_var:-}" ]]; then
        if command -v musl-gcc >/dev/null 2>&1; then
            printf -v "${cc_var}" '%s' musl-gcc
        else
            install_for "$(command -v gcc || echo /usr/bin/gcc)" gcc
            printf -v "${cc_var}" '%s' gcc
        fi
    fi
else
    # Cross: the target's gcc only compiles ring's C (it never links); rust-lld links.
    # ring includes a few libc headers; the glibc ones of Debian's cross packages do.
    triple="${target_arch//_/-}-linux-gnu"
    if [[ -z "${!cc_var:-}" ]]; then
        install_for "/usr/bin/${triple}-gcc" "${debian_cross}"
        install_for "/usr/${triple}/include/stdint.h" "${debian_cross}"
        printf -v "${cc_var}" '%s' "${triple}-gcc"
        printf -v "${ar_var}" '%s' "${triple}-ar"
        export "${ar_var?}"
    fi
    if [[ -z "${!linker_var:-}" ]]; then
        printf -v "${linker_var}" '%s' rust-lld
    fi
    export "${linker_var?}"
fi
export "${cc_var?}"

read -r -a cargo_build <<<"${CARGO_BUILD:-build}"
cargo "${cargo_build[@]}" --release --locked --target "${TARGET}" -p eureka-hook >&2

bin="${CARGO_TARGET_DIR:-target}/${TARGET}/release/eureka-hook"
if [[ ! -x "${bin}" ]]; then
    fail "cargo succeeded but ${bin} is missing"
fi
echo "${bin}"
