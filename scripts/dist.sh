#!/usr/bin/env bash
# Write the release files to dist/: one static binary per target, named
# eureka-hook-VERSION-TARGET, and SHA256SUMS over them (check with `sha256sum -c SHA256SUMS`).
#
# Each binary is built by scripts/build-static.sh through `cargo auditable`, which
# embeds the crate list (names, versions, sources) in a `.dep-v0` ELF section, the
# form cargo audit, trivy, grype and syft read from Rust binaries: a static binary
# does not hide its crates from a vulnerability scan. cargo-auditable is installed
# from crates.io into target/tools once, not on every run.
#
# Usage: scripts/dist.sh [TARGET...]
#   TARGET  a Rust target triple or a Docker architecture name (what the Dockerfile's
#           TARGETARCH holds): x86_64-unknown-linux-musl or amd64,
#           aarch64-unknown-linux-musl or arm64. Default: both.
# Output: the path of each binary on stdout, one a line; cargo's progress on stderr.
#
# The builds use their own target directory (target/dist-build, or
# $CARGO_TARGET_DIR/dist-build), so that switching between this and a plain
# scripts/build-static.sh does not rebuild either.
set -euo pipefail

readonly CARGO_AUDITABLE_VERSION=0.7.7

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "dist.sh: $*" >&2; exit 1; }

(($# > 0)) || set -- amd64 arm64
targets=()
for name in "$@"; do
    case "${name}" in
        amd64 | x86_64-unknown-linux-musl) targets+=(x86_64-unknown-linux-musl) ;;
        arm64 | aarch64-unknown-linux-musl) targets+=(aarch64-unknown-linux-musl) ;;
        *) fail "unsupported target '${name}': use amd64, arm64 or their musl triples" ;;
    esac
done

target_root="${CARGO_TARGET_DIR:-target}"
tools="${target_root}/tools"
if ! cargo install --list --root "${tools}" 2>/dev/null \
    | grep -qx "cargo-auditable v${CARGO_AUDITABLE_VERSION}:"; then
    echo "dist.sh: installing cargo-auditable ${CARGO_AUDITABLE_VERSION} into ${tools}" >&2
    cargo install --locked --quiet --root "${tools}" --version "${CARGO_AUDITABLE_VERSION}" cargo-auditable >&2 \
        || fail "cannot install cargo-auditable ${CARGO_AUDITABLE_VERSION} from crates.io"
fi
PATH="$(cd "${tools}/bin" && pwd):${PATH}"
export PATH

# `path+file:///…#eureka-hook@0.1.0` (or `…#0.1.0` where the directory has the crate's name).
version="$(cargo pkgid --locked -p eureka-hook)"
version="${version##*[#@]}"
[[ "${version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "cannot read the version from cargo pkgid: ${version}"

mkdir -p dist
rm -f dist/eureka-hook-* dist/SHA256SUMS
names=()
for target in "${targets[@]}"; do
    built="$(CARGO_BUILD="auditable build" CARGO_TARGET_DIR="${target_root}/dist-build" \
        bash scripts/build-static.sh "${target}" | tail -n 1)"
    name="eureka-hook-${version}-${target}"
    install -m 0755 "${built}" "dist/${name}"
    names+=("${name}")
done
(cd dist && sha256sum "${names[@]}" > SHA256SUMS)
for name in "${names[@]}"; do
    echo "dist/${name}"
done
