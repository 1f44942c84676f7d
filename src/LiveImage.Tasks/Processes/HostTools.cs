namespace LiveImage.Tasks.Processes;

/// <summary>Which Debian package provides each host tool and file the SDK uses, so errors can name it.</summary>
internal static class HostTools
{
    private static readonly Dictionary<string, string> Packages = new()
    {
        ["mmdebstrap"] = "mmdebstrap",
        ["debootstrap"] = "debootstrap",
        ["mksquashfs"] = "squashfs-tools",
        ["unsquashfs"] = "squashfs-tools",
        ["xorriso"] = "xorriso",
        ["rsync"] = "rsync",
        ["zstd"] = "zstd",
        ["grub-mkimage"] = "grub-common",
        ["mkfs.vfat"] = "dosfstools",
        ["mkfs.ext4"] = "e2fsprogs",
        ["mmd"] = "mtools",
        ["mcopy"] = "mtools",
        ["unshare"] = "util-linux",
        ["setpriv"] = "util-linux",
        ["qemu-system-x86_64"] = "qemu-system-x86",
        ["qemu-system-i386"] = "qemu-system-x86",
        ["qemu-system-aarch64"] = "qemu-system-arm",
        ["qemu-system-arm"] = "qemu-system-arm",
        // foreign architectures: qemu-user registered with binfmt_misc
        ["arch-test"] = "arch-test",
        ["update-binfmts"] = "binfmt-support",
        ["setsid"] = "util-linux",
        ["flock"] = "util-linux",
        ["dpkg-deb"] = "dpkg",
        ["qemu-x86_64-static"] = "qemu-user-static",
        ["qemu-i386-static"] = "qemu-user-static",
        ["qemu-aarch64-static"] = "qemu-user-static",
        ["qemu-arm-static"] = "qemu-user-static",
        ["/usr/lib/ISOLINUX/isolinux.bin"] = "isolinux",
        ["/usr/lib/ISOLINUX/isohdpfx.bin"] = "isolinux",
        ["/usr/lib/syslinux/modules/bios"] = "syslinux-common",
        ["/usr/lib/PXELINUX"] = "pxelinux",
        ["pxelinux.0"] = "pxelinux",
        ["lpxelinux.0"] = "pxelinux",
        ["ldlinux.c32"] = "syslinux-common",
        ["menu.c32"] = "syslinux-common",
        ["libutil.c32"] = "syslinux-common",
        ["/usr/lib/grub/x86_64-efi"] = "grub-efi-amd64-bin",
        ["/usr/lib/grub/i386-efi"] = "grub-efi-ia32-bin",
        ["/usr/lib/grub/arm64-efi"] = "grub-efi-arm64-bin",
        ["/usr/lib/grub/arm-efi"] = "grub-efi-arm-bin",
        ["/usr/share/OVMF/OVMF_CODE_4M.fd"] = "ovmf",
        ["/usr/share/AAVMF/AAVMF_CODE.fd"] = "qemu-efi-aarch64",
        ["/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd"] = "ovmf-ia32",
        ["/usr/share/OVMF/OVMF32_VARS_4M.fd"] = "ovmf-ia32",
        ["/usr/share/AAVMF/AAVMF_VARS.fd"] = "qemu-efi-aarch64",
    };

    public static string PackageFor(string tool) =>
        Packages.TryGetValue(tool, out var p) ? p : Packages.GetValueOrDefault(Path.GetFileName(tool), "(unknown: run 'apt-file search " + Path.GetFileName(tool) + "')");

    /// <summary>The full path of a program on PATH, or null.</summary>
    public static string? Find(string program, string? searchPath = null)
    {
        if (program.Contains('/')) return File.Exists(program) ? program : null;
        var path = searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
        // root's tools live in sbin, which a user's PATH may lack
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(searchPath is null ? ["/usr/sbin", "/sbin"] : []))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Missing tools and files as (name, package) pairs.</summary>
    public static IEnumerable<(string Name, string Package)> Missing(IEnumerable<string> required, string? searchPath = null) =>
        required.Where(r => r.StartsWith('/') ? !File.Exists(r) && !Directory.Exists(r) : Find(r, searchPath) is null)
                .Select(r => (r, PackageFor(r)));
}
