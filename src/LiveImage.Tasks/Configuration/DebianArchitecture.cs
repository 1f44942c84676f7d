namespace LiveImage.Tasks.Configuration;

/// <summary>What the SDK knows per Debian architecture: kernel flavour, boot loaders, qemu names.</summary>
internal sealed record DebianArchitecture(
    string Name,
    string KernelFlavour,
    string? GrubEfiTarget,
    string? EfiBootFile,
    bool HasBios,
    string QemuSystem,
    string QemuUser)
{
    public static readonly IReadOnlyList<DebianArchitecture> All =
    [
        new("amd64", "amd64", "x86_64-efi", "BOOTX64.EFI", true, "qemu-system-x86_64", "x86_64")
            { GrubEfiPackage = "grub-efi-amd64-bin", GrubEfiPackageHosts = ["amd64", "i386"], SerialConsole = "ttyS0" },
        new("i386", "686-pae", "i386-efi", "BOOTIA32.EFI", true, "qemu-system-i386", "i386")
            { GrubEfiPackage = "grub-efi-ia32-bin", GrubEfiPackageHosts = ["amd64", "i386"], SerialConsole = "ttyS0", NativeOn = ["amd64"] },
        new("arm64", "arm64", "arm64-efi", "BOOTAA64.EFI", false, "qemu-system-aarch64", "aarch64")
            { GrubEfiPackage = "grub-efi-arm64-bin", GrubEfiPackageHosts = ["arm64"], SerialConsole = "ttyAMA0", HasDeviceTrees = true },
        new("armhf", "armmp", "arm-efi", "BOOTARM.EFI", false, "qemu-system-arm", "arm")
            { GrubEfiPackage = "grub-efi-arm-bin", GrubEfiPackageHosts = ["armhf"], SerialConsole = "ttyAMA0", HasDeviceTrees = true, NativeOn = ["arm64"] },
    ];

    /// <summary>The Debian package holding GRUB's modules for <see cref="GrubEfiTarget"/> (/usr/lib/grub/&lt;target&gt;).</summary>
    public string? GrubEfiPackage { get; init; }

    /// <summary>
    /// The host architectures Debian builds <see cref="GrubEfiPackage"/> for: on other hosts (arm64 images
    /// on amd64) the host cannot install it, and the bootstrap takes it from the image's archive instead.
    /// </summary>
    public IReadOnlyList<string> GrubEfiPackageHosts { get; init; } = [];

    /// <summary>The first serial port's device name on the usual machines (PC: 8250 UART, ARM virt and most boards: PL011).</summary>
    public string SerialConsole { get; init; } = "ttyS0";

    /// <summary>ARM kernels ship device trees (/usr/lib/linux-image-&lt;version&gt;/) that boards may need.</summary>
    public bool HasDeviceTrees { get; init; }

    /// <summary>Host architectures whose CPUs may also run this one's programs natively (i386 on amd64); arch-test decides.</summary>
    public IReadOnlyList<string> NativeOn { get; init; } = [];

    public string KernelPackage => "linux-image-" + KernelFlavour;

    /// <summary>The name of qemu-user's binfmt_misc handler (as update-binfmts and /proc/sys/fs/binfmt_misc call it).</summary>
    public string BinfmtHandler => "qemu-" + QemuUser;

    /// <summary>The statically linked qemu-user binary (package qemu-user-static) that mmdebstrap copies into a chroot.</summary>
    public string QemuUserStatic => "qemu-" + QemuUser + "-static";

    /// <summary>GRUB's module directory on a host that has <see cref="GrubEfiPackage"/> installed.</summary>
    public string? HostGrubEfiDirectory => GrubEfiTarget is null ? null : "/usr/lib/grub/" + GrubEfiTarget;

    public static DebianArchitecture? Find(string name) =>
        All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.Ordinal));

    public static string Names => string.Join(", ", All.Select(a => a.Name));

    /// <summary>The dpkg architecture of this host, from the process architecture.</summary>
    public static string Host => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.X86 => "i386",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "armhf",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>How a build of this architecture runs the image's programs on a host of <paramref name="host"/>.</summary>
    /// <param name="canRunNatively">Asked only when the host may run them natively (arch-test -n): whether it really can.</param>
    public ExecutionMode ExecutionOn(string host, Func<string, bool> canRunNatively) =>
        host == Name ? ExecutionMode.Native
        : NativeOn.Contains(host) && canRunNatively(Name) ? ExecutionMode.NativeCompatible
        : ExecutionMode.Emulated;
}

/// <summary>How the build runs programs of the image's architecture.</summary>
internal enum ExecutionMode
{
    /// <summary>The host's own architecture.</summary>
    Native,

    /// <summary>Another architecture the host's CPU and kernel run directly (i386 on amd64).</summary>
    NativeCompatible,

    /// <summary>Through qemu-user, registered with binfmt_misc.</summary>
    Emulated,
}
