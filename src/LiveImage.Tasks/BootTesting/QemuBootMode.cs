using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.BootTesting;

/// <summary>Which firmware boots the guest.</summary>
internal enum QemuFirmware
{
    /// <summary>Legacy BIOS (SeaBIOS on x86): the isolinux path of an isohybrid ISO.</summary>
    Bios,

    /// <summary>UEFI (OVMF on x86, AAVMF on arm64): the EFI El Torito / GPT path.</summary>
    Uefi,
}

/// <summary>How the ISO is attached to the guest.</summary>
internal enum QemuMedium
{
    /// <summary>As an optical disc (El Torito).</summary>
    Cdrom,

    /// <summary>As a USB mass-storage stick (the isohybrid MBR/GPT), like a <c>dd</c>-written stick.</summary>
    UsbStick,

    /// <summary>
    /// No disk: the firmware boots from the network (PXE) through qemu's user networking, which serves
    /// the netboot folder over TFTP; the root filesystem comes over HTTP from a server on 127.0.0.1.
    /// </summary>
    Network,
}

/// <summary>
/// One way of booting an image in qemu: the ISO as <c>bios-cdrom</c>, <c>bios-usb</c>, <c>uefi-cdrom</c>,
/// <c>uefi-usb</c>, or the netboot folder as <c>netboot</c> (BIOS PXE: pxelinux) and <c>netboot-uefi</c>
/// (UEFI PXE: GRUB).
/// </summary>
internal sealed record QemuBootMode(string Name, QemuFirmware Firmware, QemuMedium Medium)
{
    public static readonly QemuBootMode BiosCdrom = new("bios-cdrom", QemuFirmware.Bios, QemuMedium.Cdrom);
    public static readonly QemuBootMode BiosUsb = new("bios-usb", QemuFirmware.Bios, QemuMedium.UsbStick);
    public static readonly QemuBootMode UefiCdrom = new("uefi-cdrom", QemuFirmware.Uefi, QemuMedium.Cdrom);
    public static readonly QemuBootMode UefiUsb = new("uefi-usb", QemuFirmware.Uefi, QemuMedium.UsbStick);

    public static readonly QemuBootMode Netboot = new("netboot", QemuFirmware.Bios, QemuMedium.Network);
    public static readonly QemuBootMode NetbootUefi = new("netboot-uefi", QemuFirmware.Uefi, QemuMedium.Network);

    public static readonly IReadOnlyList<QemuBootMode> All = [BiosCdrom, BiosUsb, UefiCdrom, UefiUsb, Netboot, NetbootUefi];

    public bool IsNetwork => Medium == QemuMedium.Network;

    /// <summary>The boot menu entry to choose instead of the default (a BootMenuEntry booted by the test), or null.</summary>
    public QemuMenuEntry? MenuEntry { get; init; }

    /// <summary>This mode booting a BootMenuEntry: named &lt;mode&gt;-&lt;label&gt; (its logs and test cases).</summary>
    public QemuBootMode WithMenuEntry(QemuMenuEntry entry) => this with { Name = $"{Name}-{entry.Label}", MenuEntry = entry };

    /// <summary>
    /// The modes named in a ';'-separated list, in order and without duplicates. An empty list means
    /// every mode the machine supports, the network modes only when <paramref name="netbootAvailable"/>
    /// (the build wrote a netboot folder). An ISO mode followed by '-' and the label of one of
    /// <paramref name="entries"/> (bios-usb-persistence) boots that mode choosing that menu entry. A name that
    /// is unknown, or that this machine cannot boot (BIOS on arm64), is a LIVE5004 error listing the modes it
    /// can; a network mode without a netboot folder is LIVE5007.
    /// </summary>
    public static IReadOnlyList<QemuBootMode> ParseList(string? modes, QemuMachine machine, bool netbootAvailable = false,
        IReadOnlyList<QemuMenuEntry>? entries = null)
    {
        var supported = machine.SupportedModes;
        var names = (modes ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) return supported.Where(m => netbootAvailable || !m.IsNetwork).ToArray();

        var withEntries = (entries ?? []).SelectMany(e => supported.Where(m => !m.IsNetwork).Select(m => m.WithMenuEntry(e))).ToList();
        var result = new List<QemuBootMode>();
        foreach (var name in names)
        {
            var mode = supported.Concat(withEntries).FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new LiveImageException(nameof(Strings.UnknownBootMode), name, string.Join(", ", supported.Concat(withEntries).Select(m => m.Name)));
            if (mode.IsNetwork && !netbootAvailable) throw new LiveImageException(nameof(Strings.NetbootMissing), mode.Name);
            if (!result.Contains(mode)) result.Add(mode);
        }
        return result;
    }
}

/// <summary>
/// A boot menu entry the boot test chooses: its label, the title the menus show, its place in the menu (0: the
/// default entry) and its own kernel arguments, which the booted system's /proc/cmdline must hold.
/// </summary>
internal sealed record QemuMenuEntry(string Label, string Title, int Index, string KernelArguments)
{
    /// <summary>
    /// The keys that move the menu's highlight down to the entry and boot it: isolinux's menu takes Ctrl+N as
    /// the down arrow, GRUB's menu 'v' (both read the serial console; an escape sequence could be read as Esc).
    /// </summary>
    public string Keys(QemuFirmware firmware) => new string(firmware == QemuFirmware.Bios ? '\x0e' : 'v', Index) + "\r";
}
