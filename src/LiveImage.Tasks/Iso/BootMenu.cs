namespace LiveImage.Tasks.Iso;

/// <summary>One boot menu entry: the same in the BIOS (isolinux) and UEFI (GRUB) menus.</summary>
internal sealed record BootEntry(string Label, string Title, string KernelArguments);

/// <summary>Writes isolinux.cfg and grub.cfg from one list of entries, so both menus always agree.</summary>
internal static class BootMenu
{
    /// <summary>live-build's failsafe arguments: no ACPI/APIC tricks, no modesetting.</summary>
    public const string FailsafeArguments = "memtest noapic noapm nodma nomce nolapic nomodeset nosmp nosplash vga=normal";

    /// <summary>The splash's file name in isolinux/ and boot/grub/ of the ISO.</summary>
    public const string SplashFile = "splash.png";

    /// <summary>How many entries come before the user's BootMenuEntry items (live, fail-safe, to RAM).</summary>
    public const int StandardEntryCount = 3;

    /// <summary>The standard entries (live, fail-safe, to RAM), then the user's BootMenuEntry items.</summary>
    public static IReadOnlyList<BootEntry> Entries(string title, string liveArguments, string extraArguments, IEnumerable<BootEntry>? custom = null) =>
    [
        new("live", title, Join(liveArguments, extraArguments)),
        new("failsafe", title + " (fail-safe mode)", Join(liveArguments, FailsafeArguments, extraArguments)),
        new("toram", title + " (load to RAM)", Join(liveArguments, "toram", extraArguments)),
        .. (custom ?? []).Select(c => c with { KernelArguments = Join(liveArguments, c.KernelArguments, extraArguments) }),
    ];

    /// <summary>
    /// live-boot mounts a stack of modules with one overlay option joining every module's mount point
    /// (<c>lowerdir=/run/live/rootfs/NAME/:…</c>), and util-linux's mount hands it to the kernel through the new
    /// mount API, which takes at most 255 bytes per option value: a stack of about seven modules (a Debug build)
    /// did not mount. The kernel gives unknown NAME=value arguments to the initramfs as its environment; this one
    /// makes util-linux use mount(2), which takes a page. One squashfs needs nothing.
    /// </summary>
    public static string ForStack(string liveArguments, int modules) =>
        modules > 1 ? Join(liveArguments, "LIBMOUNT_FORCE_MOUNT2=always") : liveArguments;

    public static string Isolinux(string menuTitle, IReadOnlyList<BootEntry> entries, int timeoutSeconds, bool splash = false)
    {
        var lines = new List<string>
        {
            "SERIAL 0 115200",
            splash ? "UI vesamenu.c32" : "UI menu.c32",
            $"MENU TITLE {menuTitle}",
            "PROMPT 0",
            $"TIMEOUT {Math.Max(1, timeoutSeconds * 10)}",
            $"DEFAULT {entries[0].Label}",
        };
        if (splash) lines.Add($"MENU BACKGROUND /isolinux/{SplashFile}");
        foreach (var e in entries)
        {
            lines.Add($"LABEL {e.Label}");
            lines.Add($"  MENU LABEL {e.Title}");
            lines.Add("  KERNEL /live/vmlinuz");
            lines.Add($"  APPEND initrd=/live/initrd.img {e.KernelArguments}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <param name="deviceTree">A device tree on the medium (/dtb/...) that each entry loads for the kernel (ARM boards), or null.</param>
    public static string Grub(IReadOnlyList<BootEntry> entries, int timeoutSeconds, bool splash = false, string? deviceTree = null)
    {
        var lines = new List<string> { "serial --unit=0 --speed=115200", "terminal_input console serial" };
        if (splash)
        {
            // a picture needs the graphical terminal, and that needs a font
            lines.AddRange([
                "insmod all_video", "insmod gfxterm", "insmod png",
                "loadfont $prefix/unicode.pf2",
                "terminal_output gfxterm serial",
                $"background_image $prefix/{SplashFile}",
            ]);
        }
        else
        {
            lines.Add("terminal_output console serial");
        }
        lines.Add("set default=0");
        lines.Add($"set timeout={timeoutSeconds}");
        foreach (var e in entries)
        {
            lines.Add($"menuentry \"{e.Title.Replace("\"", "'")}\" {{");
            lines.Add($"    linux /live/vmlinuz {e.KernelArguments}");
            lines.Add("    initrd /live/initrd.img");
            if (deviceTree is not null) lines.Add($"    devicetree {deviceTree}");
            lines.Add("}");
        }
        return string.Join('\n', lines) + "\n";
    }

    private static string Join(params string[] parts) => string.Join(' ', parts.Where(p => p.Length > 0));
}
