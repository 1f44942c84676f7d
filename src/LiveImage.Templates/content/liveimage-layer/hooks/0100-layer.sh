#!/bin/sh
# Runs on the build host with the image's root as $1: the base image's files and this image's packages are there.
set -eu
printf '%s %s, built on its base image\n' "$LIVEIMAGE_NAME" "$LIVEIMAGE_VERSION" > "$1/etc/mylayer-release"
