#!/bin/sh
# A hook that runs inside the image (chroot): list it with RunIn="chroot" in the project,
#   <Hook Include="hooks/0300-in-the-image.sh" RunIn="chroot" />
# $1 is / here; the image's metadata is in the environment (LIVEIMAGE_NAME, LIVEIMAGE_VERSION ...).
set -eu
echo "$LIVEIMAGE_NAME $LIVEIMAGE_VERSION" > /etc/image-release
