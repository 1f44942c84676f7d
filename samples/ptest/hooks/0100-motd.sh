#!/bin/sh
# Runs on the host side; $1 is the root directory of the image.
set -eu
printf 'Welcome to the LiveImage.Sdk minimal live image.\n' > "$1/etc/motd"
