#!/bin/sh
# Runs on the host side; $1 is the root directory of the image.
set -eu
# A live session has no use for the first-run assistant.
if [ -f "$1/etc/xdg/autostart/gnome-initial-setup-first-login.desktop" ]; then
    echo "Hidden=true" >> "$1/etc/xdg/autostart/gnome-initial-setup-first-login.desktop"
fi
# The login screen stays on: GDM's greeter would blank the screen after 5 idle minutes and suspend
# the machine after 20. gdm.service compiles /usr/share/gdm/dconf/* into the greeter's settings
# each time it starts (gdm3's own comment there asks for a file with a higher number).
if [ -d "$1/usr/share/gdm/dconf" ]; then
    cat > "$1/usr/share/gdm/dconf/95-live-image" <<'EOF'
[org/gnome/desktop/session]
idle-delay=uint32 0

[org/gnome/settings-daemon/plugins/power]
sleep-inactive-ac-type='nothing'
sleep-inactive-battery-type='nothing'
EOF
fi
