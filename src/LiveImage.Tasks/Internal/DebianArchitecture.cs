namespace LiveImage.Tasks.Internal;

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
        new("amd64", "amd64", "x86_64-efi", "BOOTX64.EFI", true, "qemu-system-x86_64", "x86_64"),
        new("i386", "686-pae", "i386-efi", "BOOTIA32.EFI", true, "qemu-system-i386", "i386"),
        new("arm64", "arm64", "arm64-efi", "BOOTAA64.EFI", false, "qemu-system-aarch64", "aarch64"),
        new("armhf", "armmp", "arm-efi", "BOOTARM.EFI", false, "qemu-system-arm", "arm"),
    ];

    public string KernelPackage => "linux-image-" + KernelFlavour;

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
}
