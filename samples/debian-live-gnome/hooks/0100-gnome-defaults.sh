#!/bin/sh
# Runs on the host side; $1 is the root directory of the image.
# A live session has no use for the first-run assistant.
set -eu
if [ -f "$1/etc/xdg/autostart/gnome-initial-setup-first-login.desktop" ]; then
    echo "Hidden=true" >> "$1/etc/xdg/autostart/gnome-initial-setup-first-login.desktop"
fi
