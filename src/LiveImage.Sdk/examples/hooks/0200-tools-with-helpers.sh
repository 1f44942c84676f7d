#!/bin/sh
# A host-side hook ($1 is the image's root) that installs a package with apt inside the image, using the
# SDK's helper library: source "$LIVEIMAGE_HELPERS", then call its functions with the root as argument.
# (Packages are better listed as Package items; a hook does it when it must, e.g. after its own setup.)
set -eu
. "$LIVEIMAGE_HELPERS"
export_env
mount_proc "$1"
chroot "$1" apt-get install -y --no-install-recommends ca-certificates
cleanup "$1"
