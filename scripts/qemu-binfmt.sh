#!/usr/bin/env bash
# Lets this machine run aarch64 Linux binaries under qemu user emulation, through the
# kernel's binfmt_misc, and undoes exactly that afterwards. The handler is registered
# with the F flag (the kernel opens the interpreter once, at registration), so it also
# works in a chroot and in containers, whose roots have no qemu.
#
# Usage: scripts/qemu-binfmt.sh enable    mount binfmt_misc and register qemu-aarch64 where missing
#        scripts/qemu-binfmt.sh disable   unregister and unmount only what `enable` added
#
# Needs root and a static qemu-aarch64 with its binfmt entry (qemu-user-static, or on Debian 13
# and later qemu-user-binfmt: /usr/lib/binfmt.d/qemu-aarch64.conf holds the handler). What
# `enable` added is noted in target/qemu-binfmt.added.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "qemu-binfmt.sh: $*" >&2; exit 1; }

readonly binfmt=/proc/sys/fs/binfmt_misc
readonly handler=qemu-aarch64
readonly handler_conf=/usr/lib/binfmt.d/qemu-aarch64.conf
readonly added=target/qemu-binfmt.added

enable() {
    [[ "$(id -u)" == 0 ]] || fail "needs root to register a binfmt_misc handler"
    [[ -f "$handler_conf" ]] || fail "$handler_conf is missing: apt-get install qemu-user-static (Debian 13 and later: qemu-user qemu-user-binfmt)"
    mkdir -p target
    : > "$added"
    if [[ ! -e "$binfmt/register" ]]; then
        mount -t binfmt_misc binfmt_misc "$binfmt" || fail "cannot mount binfmt_misc on $binfmt"
        echo mount >> "$added"
    fi
    if [[ ! -e "$binfmt/$handler" ]]; then
        grep -v '^#' "$handler_conf" | grep ":$handler:" > "$binfmt/register" \
            || fail "cannot register $handler from $handler_conf"
        echo handler >> "$added"
    fi
    grep -qx enabled "$binfmt/$handler" || fail "$handler is registered but disabled"
}

disable() {
    [[ -f "$added" ]] || return 0
    if grep -qx handler "$added" && [[ -e "$binfmt/$handler" ]]; then
        echo -1 > "$binfmt/$handler"
    fi
    if grep -qx mount "$added"; then
        umount "$binfmt"
    fi
    rm -f "$added"
}

case "${1:-}" in
    enable) enable ;;
    disable) disable ;;
    *) fail "usage: scripts/qemu-binfmt.sh enable|disable" ;;
esac
