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
  qemu-system-x86 ovmf              # boot tests
  qemu-user-static binfmt-support   # foreign architectures
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
command -v dotnet >/dev/null || { echo "The .NET SDK 10 is needed: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
echo "prerequisites present"
