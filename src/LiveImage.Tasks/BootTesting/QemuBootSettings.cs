namespace LiveImage.Tasks.BootTesting;

/// <summary>A command run in the booted guest after login; with no Expect it must exit with 0.</summary>
internal sealed record QemuBootCheck(string Command, string? Expect, TimeSpan? Timeout, bool AsRoot = false);

/// <summary>The settings shared by every boot of one BootTest.</summary>
internal sealed record QemuBootSettings(
    QemuMachine Machine,
    string QemuPath,
    string SetprivPath,
    string IsoPath,
    string ImageName,
    string AcceleratorRequest,
    int MemoryMiB,
    int Cpus,
    TimeSpan BootTimeout,
    TimeSpan StepTimeout,
    string LiveUser,
    string LivePassword,
    string LogDirectory,
    string FirmwareCode,
    string FirmwareVars,
    IReadOnlyList<QemuBootCheck> Checks)
{
    /// <summary>The netboot folder the network modes boot (null: none was built).</summary>
    public string? NetbootDirectory { get; init; }

    /// <summary>The image's name in a netboot folder of stacks (&lt;image&gt;.modules): its menu entry is the one booted.</summary>
    public string NetbootImage { get; init; } = "";

    /// <summary>The EFI boot file in the netboot folder (netboot-uefi), e.g. bootx64.efi.</summary>
    public string? NetbootEfiFile { get; init; }

    /// <summary>Check that the live user is in the sudo group (LiveUserSudo).</summary>
    public bool LiveUserSudo { get; init; } = true;

    /// <summary>Check that root's password is locked (LockRootPassword).</summary>
    public bool LockRootPassword { get; init; } = true;

    /// <summary>The mirror the image's apt sources must name; empty: only check for build-time sources.</summary>
    public string ImageMirror { get; init; } = "";
    public IReadOnlyList<string> ImageAptSources { get; init; } = [];

    /// <summary>The build's mirror, which an image with its own mirror must no longer name.</summary>
    public string BuildMirror { get; init; } = "";

    /// <summary>Failed units (names or globs) that do not fail the boot.</summary>
    public IReadOnlyList<string> AllowedFailedUnits { get; init; } = [];

    /// <summary>The image is a disk image the guest writes to (a PersistentDisk's, for its persistence partition): the USB modes attach it without a snapshot.</summary>
    public bool DiskWritable { get; init; }

    /// <summary>A raw disk image attached as a second, writable disk (virtio, /dev/vda in the guest); null: none.</summary>
    public string? ExtraDisk { get; init; }

    /// <summary>Take a screenshot before qemu is stopped.</summary>
    public bool Screenshots { get; init; } = true;

    /// <summary>The KVM device whose access decides whether KVM is tried at all (tests point it elsewhere).</summary>
    public string KvmDevice { get; init; } = QemuAccelerator.DevKvm;
}

internal sealed record QemuBootResult(QemuBootMode Mode, QemuAccel Accel, double SecondsToLogin, string SerialLog)
{
    public string? Screenshot { get; init; }

    /// <summary>systemctl is-system-running after the boot finished, and the failed units.</summary>
    public string SystemState { get; init; } = "";
    public IReadOnlyList<string> FailedUnits { get; init; } = [];
}
