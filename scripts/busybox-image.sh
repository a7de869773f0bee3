#!/usr/bin/env bash
# A local stand-in for the busybox base image of the Dockerfile's `installer` stage, for one
# platform, built from Debian's busybox-static package of that architecture: base images cannot
# be pulled where the test command runs, Debian packages can. The installer stage is then built
# on it with --build-arg INSTALLER_BASE=<the printed name>, and everything the stage itself adds
# (the binary, the user, the entrypoint) is what ships.
#
# Usage: DOCKER_HOST=… scripts/busybox-image.sh amd64|arm64   prints the image's name
#
# The package is fetched with apt-get, with package lists of its own under target/busybox (the
# machine's own apt state and architectures stay as they are), once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "busybox-image.sh: $*" >&2; exit 1; }

readonly arch="${1:-}"
[[ "$arch" == amd64 || "$arch" == arm64 ]] || fail "usage: scripts/busybox-image.sh amd64|arm64"
readonly image="eureka-hook-test/busybox:$arch"
readonly docker=/usr/bin/docker
readonly home="$PWD/target/busybox/$arch"

if "$docker" image inspect "$image" >/dev/null 2>&1; then
    echo "$image"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "needs apt-get to fetch Debian's busybox-static:$arch"
mkdir -p "$home/lists/partial" "$home/cache/archives/partial"
apt_options=(
    -q
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
    -o "Dir::State::Lists=$home/lists" -o "Dir::Cache=$home/cache"
    -o "APT::Sandbox::User=root"
)
if ! compgen -G "$home/busybox-static_*_$arch.deb" >/dev/null; then
    apt-get "${apt_options[@]}" update >&2
    (cd "$home" && apt-get "${apt_options[@]}" download "busybox-static:$arch" >&2)
fi
debs=("$home"/busybox-static_*_"$arch".deb)
[[ -f "${debs[0]}" ]] || fail "no busybox-static package for $arch in $home"

rm -rf "$home/context"
mkdir -p "$home/context/root/bin"
dpkg-deb --fsys-tarfile "${debs[0]}" | tar -x -C "$home/context/root" ./bin/busybox
for applet in sh cp ls; do
    ln -s busybox "$home/context/root/bin/$applet"
done
printf 'FROM scratch\nCOPY root/ /\n' > "$home/context/Dockerfile"
DOCKER_BUILDKIT=1 "$docker" build --quiet --platform "linux/$arch" -t "$image" "$home/context" >&2
echo "$image"
