#!/usr/bin/env bash
# Every check and test of eureka-hook, in one command: the README gives it, CI runs it.
# It installs what the project needs (the musl targets, rustfmt, clippy, cargo-auditable, the
# third-party Eureka client the tests talk to, and with apt-get the aarch64 cross compiler, qemu
# user emulation, python3 and pip, and a Docker engine where none is) and fails, saying what is
# missing, when it cannot. It needs root (CI runs as root): for apt-get, chroot, binfmt_misc and
# dockerd. It is written for Debian (12, 13) and Ubuntu (22.04, 24.04) and their derivatives,
# with Debian's docker.io or Docker CE (Debian 12 with docker.io is where it is run); what
# differs between them is decided in scripts/platform.sh, whose decisions
# scripts/test-portability.sh checks on fake machines first.
#
# What it starts it stops on the way out, on failure too: the qemu binfmt_misc handler (and the
# binfmt_misc mount) when it added them, and its private Docker daemon, by its PID.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/platform.sh
source scripts/platform.sh

fail() { echo "test.sh: $*" >&2; exit 1; }
need() {
    command -v "$1" >/dev/null 2>&1 || fail "'$1' is required: $2"
}

# Each step's wall time, printed at the end (the budget for the whole command is 25 minutes on
# two cores).
step_names=()
step_seconds=()
current_step=""
step_started=$SECONDS
end_step() {
    if [[ -n "$current_step" ]]; then
        step_names+=("$current_step")
        step_seconds+=($((SECONDS - step_started)))
    fi
    current_step=""
}
step() {
    end_step
    current_step="$*"
    step_started=$SECONDS
    printf '\n==> %s\n' "$*"
}

docker_started=""
binfmt_enabled=""
# Every cargo test's output, for the one closing count the cleanup prints.
test_results="$PWD/target/test-results.txt"
mkdir -p target
: > "$test_results"

cleanup() {
    local status=$?
    end_step
    local cleanup_failed=""
    if [[ -n "$docker_started" ]]; then
        bash scripts/docker-daemon.sh stop || cleanup_failed="the Docker daemon did not stop cleanly"
    fi
    if [[ -n "$binfmt_enabled" ]]; then
        bash scripts/qemu-binfmt.sh disable || cleanup_failed="the qemu binfmt_misc handler was not removed"
    fi
    printf '\n==> time per step\n'
    local index
    for index in "${!step_names[@]}"; do
        printf '%6d s  %s\n' "${step_seconds[$index]}" "${step_names[$index]}"
    done
    printf '%6d s  in all\n' "$SECONDS"
    # One closing line over every cargo test run above (each prints its own "test result:" lines).
    if [[ -s "$test_results" ]]; then
        awk '/^test result:/ { passed += $4; failed += $6 }
             END { printf "\ntests: %d passed, %d failed\n", passed, failed }' "$test_results"
    fi
    if [[ -n "$cleanup_failed" ]]; then
        echo "test.sh: $cleanup_failed" >&2
        ((status != 0)) || status=1
    fi
    exit "$status"
}
trap cleanup EXIT
# A signal ends the script through exit, so the cleanup above runs then too.
trap 'exit 130' INT
trap 'exit 143' TERM

need cargo "install Rust with rustup (https://rustup.rs)"
need gcc "ring needs a C compiler for the musl target: apt-get install gcc"
need chroot "the empty-root test uses chroot (coreutils)"
need unshare "the instance-id tests run the hook in a pod-like mount namespace (util-linux)"
need sha256sum "dist/SHA256SUMS is checked with sha256sum (coreutils)"
need timeout "the demos and the benchmark run bounded in time by timeout (coreutils)"
[[ "$(id -u)" == 0 ]] || fail "needs root (CI runs as root): it installs Debian packages, \
runs the static binary in a chroot, registers qemu with binfmt_misc and starts dockerd"

step "portability: the decisions about this machine, checked on fake ones (scripts/test-portability.sh)"
bash scripts/test-portability.sh

step "packages: aarch64 cross compiler, qemu user emulation, python3 and pip, Docker engine, iproute2, curl, GNU time"
os_release=/etc/os-release
[[ -f "$os_release" ]] || os_release=/usr/lib/os-release
[[ -f "$os_release" ]] || fail "no /etc/os-release: the test command runs on Debian or Ubuntu"
# Every program the tests start is looked for on PATH and in the sbin folders.
program_dirs="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# file that must exist → the packages that provide it
declare -A packages=(
    [/usr/bin/aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
    [/usr/aarch64-linux-gnu/include/stdint.h]=libc6-dev-arm64-cross
    [/usr/lib/binfmt.d/qemu-aarch64.conf]="$(qemu_packages "$os_release" || echo qemu-user-static)"
    [/usr/bin/dpkg-deb]=dpkg
    # the instance-id tests give a pod-like namespace its address with ip
    [/bin/ip]=iproute2
    # the benchmark times the curl recipe, and measures peak RSS with GNU time
    [/usr/bin/curl]=curl
    [/usr/bin/time]=time
)
missing=()
for file in "${!packages[@]}"; do
    [[ -e "$file" ]] || missing+=("${packages[$file]}")
done
# The real-client test runs py-eureka-client, installed with pip below.
has_python=no has_pip=no
command -v python3 >/dev/null 2>&1 && has_python=yes
[[ "$has_python" == yes ]] && python3 -m pip --version >/dev/null 2>&1 && has_pip=yes
python_missing="$(python_packages "$has_python" "$has_pip")"
[[ -z "$python_missing" ]] || missing+=("$python_missing")
# A Docker engine that is there (docker.io, Docker CE, a tarball) is used as it is.
engine_plan="$(docker_engine_plan "$program_dirs")"
case "$engine_plan" in
    use) ;;
    install) missing+=(docker.io) ;;
    *) fail "a Docker engine is partly installed (missing: ${engine_plan#partial }); not installing \
docker.io over it: complete that engine's installation (Docker CE: containerd.io, docker-ce)" ;;
esac
if ((${#missing[@]} > 0)); then
    family="$(distro_family "$os_release")" \
        || fail "install these packages by hand (the test command knows Debian's and Ubuntu's names): ${missing[*]}"
    need apt-get "install these $family packages by hand: ${missing[*]}"
    apt-get update
    # shellcheck disable=SC2046 # one word per package, each once
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | tr ' ' '\n' | sort -u) \
        || fail "apt-get could not install: ${missing[*]}. $(apt_hint "$os_release")"
fi
for file in "${!packages[@]}"; do
    [[ -e "$file" ]] || fail "$file is still missing after installing ${packages[$file]}"
done
need python3 "the real-client test runs py-eureka-client: install python3"
python3 -m pip --version >/dev/null 2>&1 || fail "pip for python3 is required: install python3-pip"
dockerd_path="$(find_program dockerd "$program_dirs")" || fail "no dockerd on PATH or in /usr/sbin"
docker_client="$(docker_client_for "$dockerd_path" "$program_dirs")" \
    || fail "no docker client beside $dockerd_path or on PATH: install your engine's client (docker-ce-cli)"
client_version="$("$docker_client" version --format '{{.Client.Version}}' 2>/dev/null || true)"
has_buildx=no
"$docker_client" buildx version >/dev/null 2>&1 && has_buildx=yes
buildkit_ready "$client_version" "$has_buildx" \
    || fail "$docker_client (${client_version:-version unknown}) builds with BuildKit only through the buildx plugin: apt-get install docker-buildx-plugin"
# The private daemon (scripts/docker-daemon.sh) and the image tests use these two.
export EUREKA_HOOK_DOCKERD="$dockerd_path"
export EUREKA_HOOK_DOCKER="$docker_client"
echo "present: $(printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ')"
echo "python3: $(python3 --version 2>&1), $(python3 -m pip --version | cut -d' ' -f1-2)"
echo "docker: $dockerd_path with $docker_client ${client_version:-}"

if command -v rustup >/dev/null 2>&1; then
    step "toolchain components"
    rustup component add rustfmt clippy >/dev/null
fi

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "layers: no import cycle between src/'s modules (scripts/layers.sh)"
bash scripts/layers.sh >/dev/null

step "release files: dist/ for x86_64 and aarch64 (scripts/dist.sh amd64 arm64)"
# It prints the binaries' paths in the order of its arguments.
dist_out="$(bash scripts/dist.sh amd64 arm64)"
x86_64_bin="$PWD/$(sed -n 1p <<<"$dist_out")"
aarch64_bin="$PWD/$(sed -n 2p <<<"$dist_out")"
for bin in "$x86_64_bin" "$aarch64_bin"; do
    [[ -x "$bin" ]] || fail "scripts/dist.sh did not write $bin"
    # Measured, not asserted: the budget is 2.25 MiB per target.
    size="$(stat -c %s "$bin")"
    printf '%s: %d bytes (%s MiB)\n' "${bin##*/}" "$size" \
        "$(awk -v size="$size" 'BEGIN { printf "%.2f", size / 1048576 }')"
done
export EUREKA_HOOK_DIST_DIR="$PWD/dist"
export EUREKA_HOOK_STATIC_BIN="$x86_64_bin"

step "third-party Eureka client for the real-client test (py-eureka-client, into target/)"
py_client_version=0.13.3
py_client_dir="$PWD/target/py-eureka-client"
if [[ ! -f "$py_client_dir/.installed-$py_client_version" ]]; then
    rm -rf "$py_client_dir"
    python3 -m pip install --quiet --disable-pip-version-check --target "$py_client_dir" \
        "py-eureka-client==$py_client_version"
    touch "$py_client_dir/.installed-$py_client_version"
fi
export EUREKA_HOOK_PY_CLIENT_DIR="$py_client_dir"

step "qemu user emulation for aarch64 (binfmt_misc)"
binfmt_enabled=yes
bash scripts/qemu-binfmt.sh enable
"$aarch64_bin" --version

step "private Docker daemon (target/docker)"
docker_started=yes
EUREKA_HOOK_DOCKER_HOST="$(bash scripts/docker-daemon.sh start)"
export EUREKA_HOOK_DOCKER_HOST

step "images: the Dockerfile's final and installer stages for linux/amd64 and linux/arm64, from dist/"
images=()
installer_images=()
for arch in amd64 arm64; do
    DOCKER_HOST="$EUREKA_HOOK_DOCKER_HOST" DOCKER_BUILDKIT=1 "$EUREKA_HOOK_DOCKER" build --quiet \
        --platform "linux/$arch" --build-arg BINARIES=prebuilt -t "eureka-hook:test-$arch" .
    images+=("linux/$arch=eureka-hook:test-$arch")
    # busybox:1.37 cannot be pulled here: the installer stage goes on Debian's busybox-static.
    busybox="$(DOCKER_HOST="$EUREKA_HOOK_DOCKER_HOST" bash scripts/busybox-image.sh "$arch")"
    DOCKER_HOST="$EUREKA_HOOK_DOCKER_HOST" DOCKER_BUILDKIT=1 "$EUREKA_HOOK_DOCKER" build --quiet \
        --platform "linux/$arch" --build-arg BINARIES=prebuilt --build-arg INSTALLER_BASE="$busybox" \
        --target installer -t "eureka-hook:test-installer-$arch" .
    installer_images+=("linux/$arch=eureka-hook:test-installer-$arch")
done
export EUREKA_HOOK_IMAGES="${images[*]}"
export EUREKA_HOOK_INSTALLER_IMAGES="${installer_images[*]}"

step "builder stage, as far as it goes offline: the default build starts from the Rust image"
# Without a registry the build stops at the builder's base image, which shows that the default
# (BINARIES=source) resolves to the builder stage and that the whole file parses. Where Docker
# Hub is reachable, this builds the arm64 image from source instead.
rust_image="rust:$(sed -n 's/^ARG RUST_VERSION=//p' Dockerfile)-bookworm"
if from_source="$(DOCKER_HOST="$EUREKA_HOOK_DOCKER_HOST" DOCKER_BUILDKIT=1 "$EUREKA_HOOK_DOCKER" build \
    --progress=plain --platform linux/arm64 -t eureka-hook:test-source-arm64 . 2>&1)"; then
    grep -q "bash scripts/dist.sh" <<<"$from_source" \
        || fail "the default build succeeded without running the builder stage's scripts/dist.sh"
    echo "built from source: the registry is reachable here"
elif grep -q "load metadata for docker.io/library/$rust_image" <<<"$from_source" \
    && grep -q "failed to do request" <<<"$from_source"; then
    echo "stopped, as expected offline, at the builder's base image $rust_image"
else
    tail -n 20 <<<"$from_source" >&2
    fail "the default build failed before reaching the builder's base image $rust_image"
fi

step "aarch64 binary under qemu: prestop, poststart, status, bad input, faults, static checks"
# Emulated processes keep a core busy, unlike the native runs that mostly wait: two at a time,
# not the eight of .cargo/config.toml, or the timed bounds measure the queue for the CPU.
EUREKA_HOOK_BIN="$aarch64_bin" EUREKA_HOOK_STATIC_BIN="$aarch64_bin" \
    EUREKA_HOOK_STATIC_TARGET=aarch64-unknown-linux-musl \
    cargo test --locked --test e2e -- --include-ignored --test-threads 2 \
    cases::prestop:: cases::poststart:: cases::status:: cases::bad_input:: cases::faults:: \
    cases::static_binary:: cases::inbound::without_sock_diag | tee -a "$test_results"

step "tests (with those that need root, the static binary or python: --include-ignored)"
# The end-to-end tests mostly wait (drains, timeouts, cache timers), so more threads than cores.
# The one test that needs a machine without sock_diag ran above, under qemu; here sock_diag works.
cargo test --workspace --locked -- --include-ignored --test-threads 8 \
    --skip cases::inbound::without_sock_diag | tee -a "$test_results"

# The README's demos and benchmark, as it gives them, each bounded in time (the bound includes
# building it) and required to exit 0. They build in this target directory; the benchmark's own
# scripts/dist.sh finds the builds of dist/ above up to date. They write under target/demos/,
# never into docs/ (that takes --update-docs), which is checked.
docs_before="$(find docs -type f -exec sha256sum {} + | sort)"
step "demo: cargo run --example demo (one instance: prestop, poststart, status)"
timeout 600 cargo run --locked --example demo

step "demo: cargo run --release --example rolling_update (exits 1 if (b) or (d) loses a request)"
timeout 900 cargo run --locked --release --example rolling_update

step "benchmark: cargo run --release --example bench, shortened (exits 1 if a measured run failed)"
# Fewer runs than the README's figures (50 timed, 5 warm-up, 10 under GNU time, 500 at once):
# every measured run must still succeed, and the figures go to target/demos/benchmark.json only.
timeout 900 cargo run --locked --release --example bench -- \
    --iterations 10 --warmup 2 --rss-runs 2 --concurrent 50
[[ "$(find docs -type f -exec sha256sum {} + | sort)" == "$docs_before" ]] \
    || fail "the demos or the benchmark changed docs/"
