#!/usr/bin/env bash
# Installs the host tools LiveImage.Sdk calls (Debian package names, as the SDK's errors name them).
# Run as root on Debian 12 or later. The .NET SDK (10) must already be on PATH.
set -euo pipefail
packages=(
  mmdebstrap debootstrap            # bootstrap
  squashfs-tools                    # mksquashfs, unsquashfs
  xorriso isolinux syslinux-common  # ISO-hybrid, BIOS boot
  grub-common grub-efi-amd64-bin grub-pc-bin  # UEFI boot image
  mtools dosfstools                 # the EFI FAT image, without mounting
  util-linux                        # unshare, setpriv: the build's private namespaces
  uidmap                            # newuidmap, newgidmap: builds without root (and their tests)
  qemu-system-x86 ovmf              # boot tests
  pxelinux ipxe-qemu                # netboot folder (pxelinux.0, lpxelinux.0); qemu's PXE ROMs for the netboot boot tests
  qemu-user-static binfmt-support arch-test  # foreign architectures: qemu-user through binfmt_misc
  grub-efi-ia32-bin ovmf-ia32       # i386 UEFI boot image and boot tests (arm64/armhf GRUB comes from the image's archive)
  qemu-system-arm qemu-efi-aarch64  # arm64 boot tests (AAVMF firmware)
  tar zstd                          # the stage cache: layers as tar archives, zstd-compressed
  attr acl libcap2-bin              # tests only: a layer's xattrs, ACLs and capabilities through the stage cache
  docker-registry                   # tests only: an OCI registry on 127.0.0.1 for the stage cache between machines
  apache2-utils                     # tests only: htpasswd -B, the bcrypt password file of a registry that asks for credentials
  rsync                             # images built on a base image: their changes against the base
  e2fsprogs                         # -t:PersistentDisk: mkfs.ext4 -d (tests: debugfs reads a guest's disk back)
  gnupg apt-utils dpkg-dev          # tests only: a signed local archive for the AptSource test
  initramfs-tools-core cpio         # tests only: lsinitramfs and cpio read the netboot initrd and its added script
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Foreign architectures (arm64, armhf on amd64): binfmt_misc mounted and qemu-user-static's handlers
# enabled (they have the F flag the build needs). Neither survives a restart unless binfmt-support's
# service runs at boot; this script sets them up again.
binfmt=/proc/sys/fs/binfmt_misc
if grep -qs "^[^ ]* $binfmt binfmt_misc " /proc/mounts || mount -t binfmt_misc binfmt_misc "$binfmt"; then
  for handler in qemu-aarch64 qemu-arm; do
    if [ ! -e "$binfmt/$handler" ]; then update-binfmts --enable "$handler"
    elif [ "$(head -n 1 "$binfmt/$handler")" = disabled ]; then echo 1 > "$binfmt/$handler"; fi
  done
  # a build running with RegisterBinfmt=true records what it changed, to undo it when it ends: this is meant to stay
  state=/run/liveimage/binfmt
  if [ -d "$state" ]; then
    (flock 8; rm -f "$state/mounted" "$state/status" "$state"/registered-qemu-aarch64 "$state"/registered-qemu-arm \
       "$state"/reenabled-qemu-aarch64 "$state"/reenabled-qemu-arm) 8>"$state/lock"
  fi
else
  echo "warning: cannot mount binfmt_misc at $binfmt: arm64 and armhf images will not build here" >&2
fi
command -v dotnet >/dev/null || { echo "The .NET SDK 10 is needed: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
echo "prerequisites present"
