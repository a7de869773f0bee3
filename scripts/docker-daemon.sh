#!/usr/bin/env bash
# A private Docker daemon for the image tests, kept entirely under target/docker:
# its own data root, exec root, pid file, config and socket. It changes no
# firewall rule, creates no bridge and leaves IP forwarding as it is; containers
# run with the host's network. It is stopped by its PID, never by name.
#
# Usage: scripts/docker-daemon.sh start   prints the DOCKER_HOST to use (unix://…)
#        scripts/docker-daemon.sh stop    stops it and removes every mount it left
#
# Needs root and a Docker engine: dockerd, containerd and runc found on PATH or in
# /usr/sbin (Debian's and Ubuntu's docker.io, Docker CE, a static tarball), and the
# docker client that belongs to it. scripts/test.sh names both in EUREKA_HOOK_DOCKERD
# and EUREKA_HOOK_DOCKER; run by hand, they are found as scripts/platform.sh finds them.
# Its containerd namespaces are its own, so a machine's running Docker CE, whose
# containerd this daemon then shares, never sees its containers or images.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/platform.sh
source scripts/platform.sh

fail() { echo "docker-daemon.sh: $*" >&2; exit 1; }

readonly home="$PWD/target/docker"
readonly pidfile="$home/dockerd.pid"
readonly log="$home/dockerd.log"
# A unix socket path holds at most 107 bytes, and a checkout can sit deep enough for
# target/docker/exec/containerd/… to be longer. The daemon is therefore given its sockets and
# exec root through a short link in /tmp to target/docker (named in $home/link, removed by stop);
# every file stays under target/docker.
readonly linkfile="$home/link"

# What the daemon must leave as it found it: interfaces, routes, forwarding, firewall rules.
network_state() {
    ip -o link show | awk -F': ' '{ print "link", $2 }'
    ip route show table all | sed -E 's/ expires [0-9]+sec//; s/^/route /'
    echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
    if command -v iptables-save >/dev/null 2>&1; then
        iptables-save 2>/dev/null | grep -v '^#' | sed 's/^/iptables /' || true
    fi
}

stop() {
    if [[ -f "$pidfile" ]]; then
        local pid
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            # dockerd stops its containers and its own containerd before it exits.
            for _ in $(seq 300); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                echo "docker-daemon.sh: dockerd ($pid) did not stop in 30 s; killing it" >&2
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        rm -f "$pidfile"
    fi
    # Whatever the daemon mounted under its roots (overlay layers, shm, the
    # exec root's netns files) goes with it, deepest first.
    local mounts
    mounts="$(awk -v home="$home/" 'index($5, home) == 1 { print $5 }' /proc/self/mountinfo | sort -r)"
    local mount
    for mount in $mounts; do
        umount "$mount" 2>/dev/null || umount -l "$mount"
    done
    rm -rf "$home/exec"
    if [[ -f "$linkfile" ]]; then
        local link
        link="$(cat "$linkfile")"
        [[ -L "$link" ]] && rm -f "$link"
        rm -f "$linkfile"
    fi
    if [[ -f "$home/network-before" ]]; then
        if ! diff -u "$home/network-before" <(network_state) >&2; then
            rm -f "$home/network-before"
            fail "the network changed while dockerd ran (diff above)"
        fi
        rm -f "$home/network-before"
    fi
    # The runtime folders the daemon and its containerd made outside target/ (the plugin
    # socket folder, the shims' socket folder), when they did not exist before it started.
    if [[ -f "$home/made-folders" ]]; then
        local folder
        while read -r folder; do
            [[ -d "$folder" ]] && find "$folder" -depth -type d -empty -delete
        done < "$home/made-folders"
        rm -f "$home/made-folders"
    fi
}

start() {
    [[ "$(id -u)" == 0 ]] || fail "needs root (the test command runs as root in CI)"
    local dirs="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
    local tool
    for tool in dockerd containerd runc; do
        find_program "$tool" "$dirs" >/dev/null || fail "'$tool' is missing: install a Docker engine (apt-get install docker.io)"
    done
    # dockerd starts containerd and runc from its PATH.
    PATH="$dirs"
    dockerd="${EUREKA_HOOK_DOCKERD:-$(find_program dockerd "$dirs")}"
    docker="${EUREKA_HOOK_DOCKER:-$(docker_client_for "$dockerd" "$dirs")}" \
        || fail "no docker client beside $dockerd or on PATH"
    [[ -x "$docker" ]] || fail "the docker client $docker is missing"
    command -v ip >/dev/null 2>&1 || fail "'ip' is missing (the network check uses it): apt-get install iproute2"
    stop
    mkdir -p "$home/data" "$home/exec"
    local link
    link="$(mktemp -u /tmp/eureka-hook-docker.XXXXXX)"
    ln -s "$home" "$link"
    echo "$link" > "$linkfile"
    local socket="$link/docker.sock"
    network_state > "$home/network-before"
    local folder
    for folder in /run/docker /run/containerd; do
        [[ -e "$folder" ]] || echo "$folder" >> "$home/made-folders"
    done
    # The daemon would otherwise write its identity key to /etc/docker/key.json.
    printf '{"deprecated-key-path": "%s"}\n' "$home/key.json" > "$home/daemon.json"
    : > "$log"
    # setsid: the daemon gets its own session, so a Ctrl-C in the test command's
    # terminal does not kill it half-way; the trap there stops it by its PID.
    DOCKER_BUILDKIT=1 setsid "$dockerd" \
        --config-file "$home/daemon.json" \
        --containerd-namespace eureka-hook-test \
        --containerd-plugins-namespace eureka-hook-test-plugins \
        --data-root "$home/data" \
        --exec-root "$link/exec" \
        --pidfile "$pidfile" \
        --host "unix://$socket" \
        --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
        --bridge=none \
        >>"$log" 2>&1 < /dev/null &
    local launched=$!
    for _ in $(seq 600); do
        if DOCKER_HOST="unix://$socket" "$docker" version >/dev/null 2>&1; then
            echo "unix://$socket"
            return 0
        fi
        kill -0 "$launched" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 30 "$log" >&2
    stop
    fail "dockerd did not come up (log above, whole log in $log)"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) fail "usage: scripts/docker-daemon.sh start|stop" ;;
esac
