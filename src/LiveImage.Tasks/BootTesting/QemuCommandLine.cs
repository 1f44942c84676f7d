namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// Everything one qemu boot needs to know; the firmware paths are only used in UEFI modes, the TFTP
/// directory and boot file only in the network modes. A QMP socket, when given, lets the boot test
/// take a screenshot.
/// </summary>
internal sealed record QemuLaunch(
    QemuMachine Machine,
    QemuBootMode Mode,
    QemuAccel Accel,
    string IsoPath,
    int MemoryMiB,
    int Cpus,
    string FirmwareCode,
    string FirmwareVarsCopy,
    string? TftpDirectory = null,
    string? BootFile = null,
    string? QmpSocket = null)
{
    /// <summary>For a user at the console (RunImage): a window when there is a display, Ctrl+C ends qemu, a network card.</summary>
    public QemuInteractive? Interactive { get; init; }

    /// <summary>The USB stick is written to (no snapshot): a disk image whose persistence partition must keep what the guest writes.</summary>
    public bool Writable { get; init; }

    /// <summary>A raw disk image attached as a second, writable virtio disk; null: none.</summary>
    public string? ExtraDisk { get; init; }
}

/// <summary>How a boot for a user differs from the boot test's: it has a window or not, and a network.</summary>
internal sealed record QemuInteractive(bool Window);

/// <summary>
/// Builds the qemu argument list for one boot: the only place that maps a boot mode to qemu options.
/// The guest's first serial port is qemu's stdin/stdout (so the boot test can read it character by
/// character and type into it); there is no display, no monitor, no network, and the ISO is never
/// written to (CD-ROM read-only, USB stick with a throw-away snapshot overlay). The network modes
/// have no disk and one network card on qemu's user network, whose built-in TFTP server serves
/// the netboot folder and whose DHCP names the boot file; the guest reaches the host's 127.0.0.1
/// as 10.0.2.2. An interactive boot (<see cref="QemuLaunch.Interactive"/>) differs only where a user
/// needs it: qemu's window when asked, Ctrl+C on the console ends qemu, and the guest has a network.
/// </summary>
internal static class QemuCommandLine
{
    /// <summary>The drive id of the ISO inside qemu.</summary>
    public const string DriveId = "live";

    /// <summary>The drive id of the extra disk (BootTestExtraDisk) inside qemu.</summary>
    public const string ExtraDriveId = "extra";

    /// <summary>The user-network backend's id inside qemu (network modes).</summary>
    public const string NetworkId = "net0";

    /// <summary>How the guest reaches the host's loopback address on qemu's user network.</summary>
    public const string HostAddress = "10.0.2.2";

    public static IReadOnlyList<string> Build(QemuLaunch launch)
    {
        var m = launch.Machine;
        var args = new List<string> { "-accel", QemuAccelerator.Name(launch.Accel) };
        var cpu = launch.Accel == QemuAccel.Kvm ? m.KvmCpu : m.TcgCpu;
        if (cpu is not null) args.AddRange(["-cpu", cpu]);
        args.AddRange(m.MachineArguments);
        var user = launch.Interactive;
        args.AddRange([
            "-m", launch.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", launch.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        // a window: qemu's own default display (GTK or SDL, whichever it has)
        if (user is not { Window: true }) args.AddRange(["-display", "none"]);
        args.AddRange([
            "-monitor", "none",
            "-parallel", "none",
            // signal=on: Ctrl+C on the terminal ends qemu instead of reaching the guest
            "-chardev", user is null ? "stdio,id=console,signal=off" : "stdio,id=console,signal=on",
            "-serial", "chardev:console",
            "-no-reboot",
        ]);
        if (!launch.Mode.IsNetwork) args.AddRange(["-nic", user is null ? "none" : "user,model=" + m.NetworkDevice]);
        if (launch.QmpSocket is not null) args.AddRange(QemuMonitor.Arguments(launch.QmpSocket));

        if (launch.Mode.Firmware == QemuFirmware.Uefi)
        {
            args.AddRange([
                "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Escape(launch.FirmwareCode)}",
                "-drive", $"if=pflash,format=raw,unit=1,file={Escape(launch.FirmwareVarsCopy)}",
            ]);
        }

        var iso = Escape(launch.IsoPath);
        switch (launch.Mode.Medium)
        {
            case QemuMedium.Cdrom:
                args.AddRange(m.CdromControllerArguments);
                args.AddRange([
                    "-drive", $"if=none,id={DriveId},media=cdrom,format=raw,readonly=on,file={iso}",
                    "-device", $"{m.CdromDevice},drive={DriveId},bootindex=0",
                ]);
                break;
            case QemuMedium.UsbStick:
                args.AddRange(m.UsbControllerArguments);
                args.AddRange([
                    "-drive", $"if=none,id={DriveId},format=raw,{(launch.Writable ? "" : "snapshot=on,")}file={iso}",
                    "-device", $"usb-storage,bus={m.UsbBus},drive={DriveId},bootindex=0",
                ]);
                break;
            case QemuMedium.Network:
                if (launch.TftpDirectory is null || launch.BootFile is null)
                    throw new ArgumentException("a network boot needs a TFTP directory and a boot file", nameof(launch));
                args.AddRange([
                    "-netdev", $"user,id={NetworkId},tftp={Escape(launch.TftpDirectory)},bootfile={Escape(launch.BootFile)}",
                    "-device", $"{m.NetworkDevice},netdev={NetworkId},bootindex=0",
                ]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(launch), launch.Mode.Medium, "unknown medium");
        }
        if (launch.ExtraDisk is not null)
            args.AddRange(["-drive", $"if=none,id={ExtraDriveId},format=raw,file={Escape(launch.ExtraDisk)}", "-device", $"virtio-blk-pci,drive={ExtraDriveId}"]);
        return args;
    }

    /// <summary>A value inside a qemu option list: commas are doubled.</summary>
    public static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
