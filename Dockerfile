# The eureka-hook image: one static binary, /eureka-hook, in an otherwise empty image, for
# linux/amd64 and linux/arm64. Application images copy it in (examples/Dockerfile.app); the
# registry hands each machine the binary of its own architecture:
#
#   COPY --from=ghcr.io/example/eureka-hook:0.1.0 /eureka-hook /usr/local/bin/eureka-hook
#
# Build and push both platforms (BuildKit):
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/example/eureka-hook:0.1.0 --push .
#   docker buildx build --platform linux/amd64,linux/arm64 --target installer \
#       -t ghcr.io/example/eureka-hook:0.1.0-installer --push .
#
# The builder runs on the build machine's own platform (BUILDPLATFORM) and cross-compiles for
# each TARGETARCH with scripts/dist.sh, the same script that writes the release files: static
# musl, release profile, --locked, the crate list embedded by cargo auditable. Nothing runs
# under emulation.
#
# --build-arg BINARIES=prebuilt takes the binaries scripts/dist.sh already wrote to dist/
# instead, one per TARGETARCH. The test command builds the image that way (base images cannot
# be pulled where it runs), so the stages that ship are the stages it runs:
#   bash scripts/dist.sh amd64 arm64
#   DOCKER_BUILDKIT=1 docker build --platform linux/arm64 --build-arg BINARIES=prebuilt .
#
# No "# syntax=" line: the frontend built into the engine handles cache mounts and platforms,
# and a syntax line would pull a frontend image before every build.

# Keep this at or above Cargo.toml's rust-version (1.88); it follows the toolchain CI tests with.
ARG RUST_VERSION=1.95
# Where the binary comes from: "source" (compiled here) or "prebuilt" (dist/ in the context).
ARG BINARIES=source
# The installer variant's base; the test command passes a local busybox built from Debian's
# busybox-static, as it cannot pull this one.
ARG INSTALLER_BASE=busybox:1.37

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-bookworm AS build
ARG TARGETARCH
WORKDIR /src
COPY . .
# The registry and target directories are BuildKit caches, so a rebuild after a source change
# only recompiles this crate (and cargo-auditable, under target/tools, is installed once).
# dist.sh installs the cross C compiler ring needs and prints the binary's path last.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    bash scripts/dist.sh "${TARGETARCH}" > /tmp/dist.out \
    && install -D -m 0755 "$(tail -n 1 /tmp/dist.out)" /out/eureka-hook

FROM scratch AS binaries-source
COPY --from=build /out/eureka-hook /eureka-hook

# The files scripts/dist.sh writes, by Docker's architecture name.
FROM scratch AS binaries-prebuilt-amd64
COPY dist/eureka-hook-*-x86_64-unknown-linux-musl /eureka-hook
FROM scratch AS binaries-prebuilt-arm64
COPY dist/eureka-hook-*-aarch64-unknown-linux-musl /eureka-hook
FROM binaries-prebuilt-${TARGETARCH} AS binaries-prebuilt

FROM binaries-${BINARIES} AS binaries

# Variant for pods whose application image cannot be rebuilt
# (examples/kubernetes/init-container.yaml): an init container runs
# `cp /eureka-hook /opt/eureka-hook/eureka-hook` into a shared emptyDir. The main image below has
# no cp and no shell, so it cannot do that itself. Built only with --target installer.
FROM ${INSTALLER_BASE} AS installer
COPY --from=binaries /eureka-hook /eureka-hook
USER 65532:65532
ENTRYPOINT ["/eureka-hook"]

# The default (last) stage: nothing but the binary. TLS roots are compiled in
# (webpki-roots), so there is no /etc/ssl either; a private CA goes in --cacert.
FROM scratch
LABEL org.opencontainers.image.title="eureka-hook" \
      org.opencontainers.image.description="Kubernetes lifecycle hook that takes a Spring Cloud (Netflix Eureka) instance out of the registry before its pod is killed" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=binaries /eureka-hook /eureka-hook
USER 65532:65532
ENTRYPOINT ["/eureka-hook"]
