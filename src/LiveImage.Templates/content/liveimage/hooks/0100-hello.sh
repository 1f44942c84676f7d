#!/bin/sh
# Runs on the build host with the image's root as $1 (RunIn="chroot" runs it inside the image instead).
set -eu
printf '%s %s (%s)\n' "$LIVEIMAGE_NAME" "$LIVEIMAGE_VERSION" "$LIVEIMAGE_ARCHITECTURE" > "$1/etc/myimage-release"
