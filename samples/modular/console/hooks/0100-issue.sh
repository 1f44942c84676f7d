#!/bin/sh
# the console level's greeting, on the login prompt
set -e
printf 'Debian GNU/Linux \\n \\l (modular sample: base, essential, console)\n\n' > "$1/etc/issue"
