# LiveImage.Sdk hook helpers: source "$LIVEIMAGE_HELPERS" from a hook.
# The functions the vmdebootstrap live-image notes name. The SDK already runs every hook in a
# private mount namespace with proc, sys, dev and run mounted and daemons blocked, so the
# mount and daemon helpers only make sure of that state; they never touch the host.

# export_env: the non-interactive settings apt and debconf need.
export_env() {
    export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C.UTF-8
}

# mount_proc ROOT: proc (and sys, dev) are mounted by the SDK; fail loudly if they are not.
mount_proc() {
    [ -r "${1:-}/proc/self/stat" ] || { echo "mount_proc: ${1:-/}proc is not mounted" >&2; return 1; }
}

# cleanup ROOT: drop what an apt run leaves behind in the image.
cleanup() {
    chroot "${1:-/}" apt-get clean
}

# prepare_apt_source ROOT MIRROR SUITE: move the image's sources aside, use MIRROR for the build.
prepare_apt_source() {
    root=${1:-/}
    if [ -f "$root/etc/apt/sources.list" ] && [ ! -f "$root/etc/apt/sources.list.liveimage" ]; then
        mv "$root/etc/apt/sources.list" "$root/etc/apt/sources.list.liveimage"
    fi
    echo "deb $2 $3 main" > "$root/etc/apt/sources.list"
    chroot "$root" apt-get -q update
}

# replace_apt_source ROOT: put the image's own sources back.
replace_apt_source() {
    root=${1:-/}
    if [ -f "$root/etc/apt/sources.list.liveimage" ]; then
        mv "$root/etc/apt/sources.list.liveimage" "$root/etc/apt/sources.list"
    fi
}

# disable_daemons ROOT: block daemon starts (the SDK has done so until its finalize stage).
disable_daemons() {
    root=${1:-/}
    [ -x "$root/usr/sbin/policy-rc.d" ] && return 0
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
}

# remove_daemon_block ROOT: allow daemon starts again (the SDK does this at finalize anyway).
remove_daemon_block() {
    rm -f "${1:-/}/usr/sbin/policy-rc.d"
}
