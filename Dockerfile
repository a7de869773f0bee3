# syntax=docker/dockerfile:1
# check=skip=FromPlatformFlagConstDisallowed
#
# The eureka-hook image: one static binary, /eureka-hook, in an otherwise empty image.
# Application images copy it in (examples/Dockerfile.app):
#
#   COPY --from=ghcr.io/example/eureka-hook:0.1.0 /eureka-hook /usr/local/bin/eureka-hook
#
# Build (BuildKit, the default builder since Docker 23):
#   docker build -t ghcr.io/example/eureka-hook:0.1.0 .
#   docker build --target installer -t ghcr.io/example/eureka-hook:0.1.0-installer .
#
# How the binary is built is decided in one place, scripts/build-static.sh (target
# x86_64-unknown-linux-musl, release profile, --locked): the tests and the benchmark
# use the same script. Every stage is pinned to linux/amd64 because that is the only
# target the script builds; on an arm64 machine the builder runs under emulation.

# Keep this at or above Cargo.toml's rust-version (1.88); it follows the toolchain CI tests with.
ARG RUST_VERSION=1.95

# hadolint ignore=DL3029
FROM --platform=linux/amd64 rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target directories are BuildKit caches, so a rebuild after a source
# change only recompiles this crate. The binary therefore lives in a cache mount and is
# copied out to /out within the same RUN. The script prints the binary's path (relative
# to the repo root) on its last stdout line; cargo's progress goes to stderr.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    bash scripts/build-static.sh > /tmp/build-static.out \
    && install -D -m 0755 "$(tail -n 1 /tmp/build-static.out)" /out/eureka-hook \
    && /out/eureka-hook --version

# Variant for pods whose application image cannot be rebuilt
# (examples/kubernetes/init-container.yaml): an init container runs
# `cp /eureka-hook /opt/eureka-hook/eureka-hook` into a shared emptyDir. The main image below has
# no cp and no shell, so it cannot do that itself. Built only with --target installer.
# hadolint ignore=DL3029
FROM --platform=linux/amd64 busybox:1.37 AS installer
COPY --from=build /out/eureka-hook /eureka-hook
USER 65532:65532
ENTRYPOINT ["/eureka-hook"]

# The default (last) stage: nothing but the binary. TLS roots are compiled in
# (webpki-roots), so there is no /etc/ssl either; a private CA goes in --cacert.
# hadolint ignore=DL3029
FROM --platform=linux/amd64 scratch
LABEL org.opencontainers.image.title="eureka-hook" \
      org.opencontainers.image.description="Kubernetes lifecycle hook that takes a Spring Cloud (Netflix Eureka) instance out of the registry before its pod is killed" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/eureka-hook /eureka-hook
USER 65532:65532
ENTRYPOINT ["/eureka-hook"]
