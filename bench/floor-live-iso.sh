#!/usr/bin/env bash
# The floor: the minimal sample's image built by a plain script of mmdebstrap + mksquashfs +
# grub-mkimage + xorriso, with no SDK around it. Same packages, user and boot set-up.
# Usage: floor-live-iso.sh OUTDIR   (as root)
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$out/work
rm -rf "$work"; mkdir -p "$work/iso/live" "$work/iso/isolinux" "$work/iso/boot/grub" "$work/iso/EFI/BOOT"
args="boot=live components console=tty0 console=ttyS0,115200n8"
mmdebstrap --mode=root --variant=minbase --include=linux-image-amd64,live-boot,systemd-sysv,sudo,less \
  --hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr \
  --customize-hook='echo debian > "$1/etc/hostname"' \
  --customize-hook='chroot "$1" useradd -m -s /bin/bash -G sudo user && echo user:live | chroot "$1" chpasswd && chroot "$1" usermod -L root' \
  trixie "$work/rootfs" < /dev/null
cp "$work"/rootfs/boot/vmlinuz-* "$work/iso/live/vmlinuz"
cp "$work"/rootfs/boot/initrd.img-* "$work/iso/live/initrd.img"
mksquashfs "$work/rootfs" "$work/iso/live/filesystem.squashfs" -noappend -no-progress -comp zstd \
  -wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' > /dev/null
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
printf 'DEFAULT live\nLABEL live\n  KERNEL /live/vmlinuz\n  APPEND initrd=/live/initrd.img %s\n' "$args" > "$work/iso/isolinux/isolinux.cfg"
id=$(cat /proc/sys/kernel/random/uuid); touch "$work/iso/id-$id"
printf 'search --no-floppy --set=root --file /id-%s\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n' "$id" > "$work/early.cfg"
printf 'set timeout=1\nmenuentry live {\n linux /live/vmlinuz %s\n initrd /live/initrd.img\n}\n' "$args" > "$work/iso/boot/grub/grub.cfg"
grub-mkimage -O x86_64-efi -o "$work/iso/EFI/BOOT/BOOTX64.EFI" -p /boot/grub -c "$work/early.cfg" \
  part_gpt part_msdos fat iso9660 normal boot linux search search_fs_file configfile serial terminal efi_gop all_video gzio
mkfs.vfat -C -n EFIBOOT "$work/iso/boot/grub/efi.img" 4096 > /dev/null
mmd -i "$work/iso/boot/grub/efi.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/iso/boot/grub/efi.img" "$work/iso/EFI/BOOT/BOOTX64.EFI" ::/EFI/BOOT/
xorriso -as mkisofs -quiet -iso-level 3 -full-iso9660-filenames -joliet -rational-rock -volid FLOOR \
  -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -eltorito-boot isolinux/isolinux.bin -eltorito-catalog isolinux/boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table -eltorito-alt-boot -e boot/grub/efi.img -no-emul-boot \
  -isohybrid-gpt-basdat -output "$out/floor.iso" "$work/iso"
rm -rf "$work"
