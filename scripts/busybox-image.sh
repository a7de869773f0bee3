#!/usr/bin/env bash
# A local stand-in for the busybox base image of the Dockerfile's `installer` stage, for one
# platform: base images cannot be pulled where the test command runs, distribution packages
# can. The installer stage is then built on it with --build-arg INSTALLER_BASE=<the printed
# name>, and everything the stage itself adds (the binary, the user, the entrypoint) is what
# ships; the stand-in is replaced by busybox:1.37 in a release build.
#
# Both platforms' stand-ins hold the build machine's own busybox-static (Debian's and Ubuntu's
# package of the machine's architecture), labelled with the platform asked for. The stand-in
# only has to provide `cp` to the init container, and a busybox of the machine's architecture
# runs natively in either image; a busybox of the other architecture would need that
# architecture's package archive (Ubuntu keeps arm64 on ports.ubuntu.com, apart from amd64),
# which the test command does not need then.
#
# Usage: DOCKER_HOST=… scripts/busybox-image.sh amd64|arm64   prints the image's name
#
# The package is fetched with apt-get, with package lists of its own under target/busybox (the
# machine's own apt state stays as it is), once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "busybox-image.sh: $*" >&2; exit 1; }

readonly arch="${1:-}"
[[ "$arch" == amd64 || "$arch" == arm64 ]] || fail "usage: scripts/busybox-image.sh amd64|arm64"
readonly image="eureka-hook-test/busybox:$arch"
readonly docker="${EUREKA_HOOK_DOCKER:-/usr/bin/docker}"
command -v dpkg >/dev/null 2>&1 || fail "needs dpkg to know the machine's architecture"
package_arch="$(dpkg --print-architecture)"
readonly package_arch
readonly home="$PWD/target/busybox/$package_arch"

if "$docker" image inspect "$image" >/dev/null 2>&1; then
    echo "$image"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "needs apt-get to fetch busybox-static:$package_arch"
mkdir -p "$home/lists/partial" "$home/cache/archives/partial"
apt_options=(
    -q
    -o "Dir::State::Lists=$home/lists" -o "Dir::Cache=$home/cache"
    -o "APT::Sandbox::User=root"
)
if ! compgen -G "$home/busybox-static_*_$package_arch.deb" >/dev/null; then
    apt-get "${apt_options[@]}" update >&2
    (cd "$home" && apt-get "${apt_options[@]}" download "busybox-static:$package_arch" >&2)
fi
debs=("$home"/busybox-static_*_"$package_arch".deb)
[[ -f "${debs[0]}" ]] || fail "no busybox-static package for $package_arch in $home"

context="$home/context-$arch"
rm -rf "$context"
mkdir -p "$context/root/bin" "$context/unpacked"
# Debian 12 and Ubuntu put it in /bin, Debian 13 in /usr/bin.
# awk reads the whole listing, so tar never writes into a closed pipe.
member="$(dpkg-deb --fsys-tarfile "${debs[0]}" | tar -t \
    | awk '/^\.\/(usr\/)?bin\/busybox$/ && !found { print; found = 1 }')"
[[ -n "$member" ]] || fail "${debs[0]} holds no bin/busybox"
dpkg-deb --fsys-tarfile "${debs[0]}" | tar -x -C "$context/unpacked" "$member"
mv "$context/unpacked/$member" "$context/root/bin/busybox"
rm -rf "$context/unpacked"
for applet in sh cp ls; do
    ln -s busybox "$context/root/bin/$applet"
done
printf 'FROM scratch\nCOPY root/ /\n' > "$context/Dockerfile"
DOCKER_BUILDKIT=1 "$docker" build --quiet --platform "linux/$arch" -t "$image" "$context" >&2
echo "$image"
