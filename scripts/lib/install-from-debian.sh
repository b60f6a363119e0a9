# Sourced by scripts/install-nginx and scripts/install-haproxy: installs a
# Debian package that carries a server (its postinst would start it) when
# all that is wanted is the binary, to run with the project's own
# configuration. Not a script of its own.
#
#   install_from_debian SCRIPT PACKAGE REPORT HOW_ELSE
#
# SCRIPT names the caller in messages; PACKAGE is the Debian package and its
# service's name; REPORT is a function that prints the binary's path and
# succeeds once it is on hand; HOW_ELSE says what else a person can do.
# Root and apt-get are required. A lock serialises parallel callers (tests
# run at once), and the later ones find the binary installed. A policy-rc.d
# that refuses every start is in place for the install when the machine has
# none, and whatever started anyway is stopped and disabled afterwards, so
# installing leaves no server running. On success the binary's path is on
# stdout; on failure the caller exits 1 with the reason on stderr.

install_from_debian() {
    local script=$1 package=$2 report=$3 how_else=$4
    fail() {
        echo "$script: error: $*" >&2
        exit 1
    }
    command -v apt-get >/dev/null 2>&1 ||
        fail "$package is not installed and this machine has no apt-get to install it; $how_else"
    [[ $(id -u) == 0 ]] ||
        fail "$package is not installed and only root may install Debian's $package package; $how_else"
    command -v flock >/dev/null 2>&1 || fail "flock was not found on PATH; install util-linux"

    # Held until the calling script exits (fd 9 closes with the process).
    local lock=/var/lock/orders-install-$package.lock
    exec 9>"$lock"
    flock -w 900 9 || fail "timed out after 15 minutes waiting for the lock $lock"
    # Another caller may have installed it while this one waited.
    "$report" && return 0

    local policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        # 101: "action forbidden by policy"; invoke-rc.d and
        # deb-systemd-invoke then start nothing.
        printf '#!/bin/sh\n# %s: no service starts while it installs %s\nexit 101\n' "$script" "$package" >"$policy"
        chmod 755 "$policy"
        trap 'rm -f "'"$policy"'"' EXIT
    fi

    echo "$script: installing Debian's $package package" >&2
    if ! apt_get_install "$package"; then
        # Package lists that are stale (or absent) on a fresh machine.
        echo "$script: apt-get install failed; updating the package lists and trying again" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >&2 ||
            fail "apt-get update failed (see its output above); $how_else"
        apt_get_install "$package" || fail "apt-get install $package failed (see its output above); $how_else"
    fi
    stop_started_service "$script" "$package"
    "$report" || fail "Debian's $package package is installed but $package is still not found ($PATH, /usr/sbin)"
}

apt_get_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=600 "$1" >&2
}

# The package was not installed before, so a server of its own running now
# was started by this install: stop it, and keep it from starting at boot.
stop_started_service() {
    local script=$1 service=$2
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        systemctl stop "$service.service" >&2 || true
        systemctl disable "$service.service" >&2 || true
    elif [[ -x /etc/init.d/$service ]]; then
        if "/etc/init.d/$service" status >/dev/null 2>&1; then
            echo "$script: stopping the $service server the package started" >&2
            "/etc/init.d/$service" stop >&2 ||
                fail "could not stop the $service server the package started (/etc/init.d/$service stop)"
        fi
        update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
}
