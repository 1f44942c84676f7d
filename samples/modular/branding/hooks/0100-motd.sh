#!/bin/sh
# configuration only: a file under /etc, no package installed
set -e
echo "Welcome to the modular sample (branding level on base, essential and console)." > "$1/etc/motd"
