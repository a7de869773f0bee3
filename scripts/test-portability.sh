#!/usr/bin/env bash
# Checks scripts/platform.sh's decisions on fake machines: os-release files of Debian, Ubuntu
# and others, folders holding stand-ins for dockerd, containerd, runc and docker laid out as
# docker.io, Docker CE or a tarball install them, and docker client versions. The test command
# runs it before it installs anything, so a wrong branch fails there on any machine, not only
# on the distribution it would misjudge. Needs no root; touches nothing outside a temporary
# folder, which it removes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/platform.sh
source scripts/platform.sh

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

checks=0
failures=0
# expect WHAT EXPECTED ACTUAL
expect() {
    checks=$((checks + 1))
    if [[ "$2" != "$3" ]]; then
        failures=$((failures + 1))
        printf 'test-portability.sh: %s: expected "%s", got "%s"\n' "$1" "$2" "$3" >&2
    fi
}
# What a function prints, or "fails" when it returns non-zero.
outcome() {
    local printed
    if printed="$("$@")"; then
        echo "$printed"
    else
        echo fails
    fi
}

# ---- os-release files as these systems ship them (the fields read, verbatim) ----
os_release() {
    local name="$1"
    shift
    printf '%s\n' "$@" > "$scratch/$name"
    echo "$scratch/$name"
}
bookworm="$(os_release bookworm 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'VERSION_ID="12"' \
    'VERSION_CODENAME=bookworm' 'ID=debian')"
trixie="$(os_release trixie 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"' 'VERSION_ID="13"' \
    'VERSION_CODENAME=trixie' 'ID=debian')"
sid="$(os_release sid 'PRETTY_NAME="Debian GNU/Linux forky/sid"' 'VERSION_CODENAME=forky' 'ID=debian')"
jammy="$(os_release jammy 'PRETTY_NAME="Ubuntu 22.04.5 LTS"' 'VERSION_ID="22.04"' \
    'VERSION_CODENAME=jammy' 'ID=ubuntu' 'ID_LIKE=debian' 'UBUNTU_CODENAME=jammy')"
noble="$(os_release noble 'PRETTY_NAME="Ubuntu 24.04.1 LTS"' 'VERSION_ID="24.04"' \
    'VERSION_CODENAME=noble' 'ID=ubuntu' 'ID_LIKE=debian' 'UBUNTU_CODENAME=noble')"
mint="$(os_release mint 'NAME="Linux Mint"' 'VERSION_ID="22"' 'ID=linuxmint' \
    "ID_LIKE='ubuntu debian'" 'VERSION_CODENAME=wilma')"
raspbian="$(os_release raspbian 'ID=raspbian' 'ID_LIKE=debian' 'VERSION_ID="12"' 'VERSION_CODENAME=bookworm')"
fedora="$(os_release fedora 'NAME="Fedora Linux"' 'VERSION_ID=40' 'ID=fedora')"
alpine="$(os_release alpine 'NAME="Alpine Linux"' 'ID=alpine' 'VERSION_ID=3.20.3')"
# No newline after the last line, as a hand-written file may end.
printf 'ID=debian\nVERSION_ID="12"' > "$scratch/no-final-newline"

expect "os_release_field unquotes" "Ubuntu 24.04.1 LTS" "$(os_release_field "$noble" PRETTY_NAME)"
expect "os_release_field single quotes" "ubuntu debian" "$(os_release_field "$mint" ID_LIKE)"
expect "os_release_field missing key" "" "$(os_release_field "$bookworm" ID_LIKE)"
expect "os_release_field ID is not ID_LIKE" "ubuntu" "$(os_release_field "$noble" ID)"
expect "os_release_field last line without newline" "12" \
    "$(os_release_field "$scratch/no-final-newline" VERSION_ID)"

expect "family of Debian 12" debian "$(outcome distro_family "$bookworm")"
expect "family of Debian sid" debian "$(outcome distro_family "$sid")"
expect "family of Ubuntu 22.04" ubuntu "$(outcome distro_family "$jammy")"
expect "family of Ubuntu 24.04" ubuntu "$(outcome distro_family "$noble")"
expect "family of Linux Mint (ID_LIKE ubuntu debian)" ubuntu "$(outcome distro_family "$mint")"
expect "family of Raspbian (ID_LIKE debian)" debian "$(outcome distro_family "$raspbian")"
expect "family of Fedora" fails "$(outcome distro_family "$fedora")"
expect "family of Alpine" fails "$(outcome distro_family "$alpine")"

expect "qemu on Debian 12" qemu-user-static "$(outcome qemu_packages "$bookworm")"
expect "qemu on Debian 13" "qemu-user qemu-user-binfmt" "$(outcome qemu_packages "$trixie")"
expect "qemu on Debian sid (no VERSION_ID)" "qemu-user qemu-user-binfmt" "$(outcome qemu_packages "$sid")"
expect "qemu on Raspbian 12" qemu-user-static "$(outcome qemu_packages "$raspbian")"
expect "qemu on Ubuntu 22.04" qemu-user-static "$(outcome qemu_packages "$jammy")"
expect "qemu on Ubuntu 24.04" qemu-user-static "$(outcome qemu_packages "$noble")"
expect "qemu on Fedora" fails "$(outcome qemu_packages "$fedora")"

expect "apt hint on Ubuntu names universe" yes \
    "$( [[ "$(apt_hint "$noble")" == *universe* ]] && echo yes || echo no)"
expect "no apt hint on Debian" "" "$(apt_hint "$bookworm")"

# ---- Docker engines as their packages lay them out, under fake roots ----
# install ROOT FILE...: executable stand-ins at those paths under ROOT
install_stubs() {
    local root="$1" file
    shift
    for file in "$@"; do
        mkdir -p "$root${file%/*}"
        printf '#!/bin/sh\nexit 0\n' > "$root$file"
        chmod +x "$root$file"
    done
}
# The PATH the test command searches, under a fake root.
dirs_under() {
    local root="$1"
    echo "$root/usr/local/bin:$root/usr/bin:$root/bin:$root/usr/local/sbin:$root/usr/sbin:$root/sbin"
}
docker_io="$scratch/docker.io"
install_stubs "$docker_io" /usr/sbin/dockerd /usr/bin/containerd /usr/sbin/runc /usr/bin/docker
docker_ce="$scratch/docker-ce"
install_stubs "$docker_ce" /usr/bin/dockerd /usr/bin/containerd /usr/bin/runc /usr/bin/docker
tarball="$scratch/tarball"
install_stubs "$tarball" /usr/local/bin/dockerd /usr/local/bin/containerd /usr/local/bin/runc \
    /usr/local/bin/docker
# Debian's docker.io beside a stray newer client in /usr/local/bin, as on some CI images.
stray_client="$scratch/stray-client"
install_stubs "$stray_client" /usr/sbin/dockerd /usr/bin/containerd /usr/sbin/runc /usr/bin/docker \
    /usr/local/bin/docker
no_engine="$scratch/no-engine"
install_stubs "$no_engine" /usr/local/bin/docker
half_ce="$scratch/half-ce"
install_stubs "$half_ce" /usr/bin/dockerd /usr/bin/docker

expect "engine: docker.io is used" use "$(docker_engine_plan "$(dirs_under "$docker_io")")"
expect "engine: Docker CE is used, docker.io not installed over it" use \
    "$(docker_engine_plan "$(dirs_under "$docker_ce")")"
expect "engine: a tarball's is used" use "$(docker_engine_plan "$(dirs_under "$tarball")")"
expect "engine: none (a client alone is no engine)" install \
    "$(docker_engine_plan "$(dirs_under "$no_engine")")"
expect "engine: half of Docker CE stops the command" "partial containerd runc" \
    "$(docker_engine_plan "$(dirs_under "$half_ce")")"

expect "dockerd of docker.io" "$docker_io/usr/sbin/dockerd" \
    "$(outcome find_program dockerd "$(dirs_under "$docker_io")")"
expect "dockerd of Docker CE" "$docker_ce/usr/bin/dockerd" \
    "$(outcome find_program dockerd "$(dirs_under "$docker_ce")")"
expect "no dockerd" fails "$(outcome find_program dockerd "$(dirs_under "$no_engine")")"
expect "a folder, not a program" fails "$(outcome find_program usr "$scratch/docker-ce")"

expect "client of docker.io's dockerd" "$docker_io/usr/bin/docker" \
    "$(outcome docker_client_for "$docker_io/usr/sbin/dockerd" "$(dirs_under "$docker_io")" "$docker_io")"
expect "client of Docker CE's dockerd" "$docker_ce/usr/bin/docker" \
    "$(outcome docker_client_for "$docker_ce/usr/bin/dockerd" "$(dirs_under "$docker_ce")" "$docker_ce")"
expect "client of a tarball's dockerd" "$tarball/usr/local/bin/docker" \
    "$(outcome docker_client_for "$tarball/usr/local/bin/dockerd" "$(dirs_under "$tarball")" "$tarball")"
expect "docker.io's client, not the stray one first on PATH" "$stray_client/usr/bin/docker" \
    "$(outcome docker_client_for "$stray_client/usr/sbin/dockerd" "$(dirs_under "$stray_client")" "$stray_client")"

expect "BuildKit: Debian's docker.io 20.10 without buildx" ok \
    "$(buildkit_ready 20.10.24+dfsg1 no && echo ok || echo no)"
expect "BuildKit: Docker CE 28 with buildx" ok "$(buildkit_ready 28.2.2 yes && echo ok || echo no)"
expect "BuildKit: Docker CE 28 without buildx" no "$(buildkit_ready 28.2.2 no && echo ok || echo no)"
expect "BuildKit: docker.io 26 without buildx" no "$(buildkit_ready 26.1.5+dfsg1 no && echo ok || echo no)"
expect "BuildKit: unknown version" no "$(buildkit_ready "" yes && echo ok || echo no)"

# ---- python3 and pip ----
expect "python: both there" "" "$(python_packages yes yes)"
expect "python: pip missing" python3-pip "$(python_packages yes no)"
expect "python: python3 missing" "python3 python3-pip" "$(python_packages no no)"

if ((failures > 0)); then
    echo "test-portability.sh: $failures of $checks checks failed" >&2
    exit 1
fi
echo "test-portability.sh: $checks checks passed"
