# shellcheck shell=bash
# The test command's decisions about the machine it runs on, as functions of their inputs (an
# os-release file, the directories searched for programs, a client's version), so that
# scripts/test-portability.sh can feed them fake machines. Sourced by scripts/test.sh and
# scripts/docker-daemon.sh; it runs nothing when sourced.
#
# What differs between the machines the test command supports:
# - Debian (bookworm) and Ubuntu (jammy, noble) ship the static qemu user emulator as
#   qemu-user-static; Debian 13 (trixie) and later ship it as qemu-user, with the binfmt_misc
#   entries in qemu-user-binfmt (qemu-user-static is a transitional package there, then gone).
# - Docker: Debian's and Ubuntu's docker.io install dockerd in /usr/sbin, Docker CE
#   (docker-ce, containerd.io) installs it in /usr/bin, a static tarball wherever it was
#   unpacked. An engine that is there is used as it is; docker.io is installed only where no
#   engine is, since it conflicts with Docker CE's packages.
# - The docker client: Debian's docker.io (20.10) builds with BuildKit on its own; clients from
#   23.0 on (Docker CE, newer docker.io) hand `docker build` to the buildx plugin.
# Nothing here needs another architecture's packages: the aarch64 side of the tests runs the
# aarch64 release binary under qemu, and the installer image's stand-in base is built from the
# build machine's own busybox (scripts/busybox-image.sh).

# The value of KEY in an os-release FILE, quotes removed; empty when KEY is not there.
os_release_field() {
    local file="$1" key="$2" line value
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ "$line" == "$key="* ]] || continue
        value="${line#*=}"
        if [[ "$value" == \"*\" || "$value" == \'*\' ]]; then
            value="${value:1:${#value}-2}"
        fi
        printf '%s\n' "$value"
        return 0
    done < "$file"
}

# debian or ubuntu, from ID and ID_LIKE (a derivative says whose packages it has in ID_LIKE:
# Linux Mint's "ubuntu debian" is ubuntu); fails for anything else.
distro_family() {
    local file="$1" words
    words=" $(os_release_field "$file" ID) $(os_release_field "$file" ID_LIKE) "
    case "$words" in
        *" ubuntu "*) echo ubuntu ;;
        *" debian "*) echo debian ;;
        *) return 1 ;;
    esac
}

# The packages that give this machine a static qemu-aarch64 and its binfmt_misc entry
# (/usr/lib/binfmt.d/qemu-aarch64.conf).
qemu_packages() {
    local file="$1" family version
    family="$(distro_family "$file")" || return 1
    version="$(os_release_field "$file" VERSION_ID)"
    if [[ "$family" == debian ]]; then
        # testing and unstable carry no VERSION_ID: they are past 13 too.
        if [[ "$version" =~ ^[0-9]+$ ]] && ((version < 13)); then
            echo qemu-user-static
        else
            echo qemu-user qemu-user-binfmt
        fi
    else
        echo qemu-user-static
    fi
}

# What to say when apt-get cannot find a package: Ubuntu keeps qemu-user-static and docker.io
# in universe.
apt_hint() {
    local family
    family="$(distro_family "$1")" || return 0
    if [[ "$family" == ubuntu ]]; then
        echo "on Ubuntu, qemu-user-static and docker.io are in universe: add-apt-repository universe"
    fi
}

# The path of program NAME in the colon-separated DIRS (PATH, then the sbin folders a login
# shell of a non-root user may lack), or nothing.
find_program() {
    local name="$1" dirs="$2" dir
    local IFS=:
    for dir in $dirs; do
        [[ -n "$dir" && -f "$dir/$name" && -x "$dir/$name" ]] && { echo "$dir/$name"; return 0; }
    done
    return 1
}

# How the test command gets a Docker engine, from the programs in DIRS:
#   use        dockerd, containerd and runc are all there: use them, install nothing
#   install    none of them is: install docker.io
#   partial X  some are (X names those missing): installing docker.io over another engine
#              would replace or break it, so the test command stops and says so
docker_engine_plan() {
    local dirs="$1" tool missing=() found=0
    for tool in dockerd containerd runc; do
        if find_program "$tool" "$dirs" >/dev/null; then
            found=$((found + 1))
        else
            missing+=("$tool")
        fi
    done
    if ((found == 3)); then
        echo use
    elif ((found == 0)); then
        echo install
    else
        echo "partial ${missing[*]}"
    fi
}

# The docker client that belongs to DOCKERD: the one beside it (Docker CE, a static tarball),
# else /usr/bin/docker (docker.io puts dockerd in /usr/sbin and its client there), else the
# first on DIRS.
docker_client_for() {
    local dockerd="$1" dirs="$2" root="${3:-}"
    local beside="${dockerd%/*}/docker"
    if [[ -x "$beside" ]]; then
        echo "$beside"
    elif [[ -x "$root/usr/bin/docker" ]]; then
        echo "$root/usr/bin/docker"
    else
        find_program docker "$dirs"
    fi
}

# Whether a docker client of VERSION (as `docker version` prints it, e.g. 20.10.24+dfsg1 or
# 28.2.2) can run `DOCKER_BUILDKIT=1 docker build`; HAS_BUILDX is yes when `docker buildx
# version` works. Clients before 23.0 carry their own BuildKit client.
buildkit_ready() {
    local version="$1" has_buildx="$2" major
    major="${version%%.*}"
    [[ "$major" =~ ^[0-9]+$ ]] || return 1
    ((major < 23)) || [[ "$has_buildx" == yes ]]
}

# How pip gets python3 ready for `python3 -m pip install --target`: the packages to install,
# from whether python3 and its pip module are there (yes/no each); nothing when both are.
python_packages() {
    local has_python="$1" has_pip="$2"
    if [[ "$has_python" != yes ]]; then
        echo python3 python3-pip
    elif [[ "$has_pip" != yes ]]; then
        echo python3-pip
    fi
}
