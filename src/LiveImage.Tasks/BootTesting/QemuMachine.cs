namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// Everything that differs per architecture when booting an ISO in qemu: the program, the machine,
/// the firmware and how a CD-ROM and a USB stick are attached. <see cref="QemuCommandLine"/> turns
/// one of these plus a <see cref="QemuBootMode"/> into arguments; to support another architecture,
/// add an entry to <see cref="All"/> (as <see cref="Arm64"/>: qemu-system-aarch64, machine virt, AAVMF
/// firmware from the qemu-efi-aarch64 package, virtio-scsi CD-ROM, no BIOS modes, console=ttyAMA0).
/// <see cref="KernelConsole"/> is what the image's kernel command line needs for the boot test to see it.
/// </summary>
internal sealed record QemuMachine(
    string Architecture,
    string Program,
    IReadOnlyList<string> MachineArguments,
    string? TcgCpu,
    bool HasBios,
    string DefaultFirmwareCode,
    string DefaultFirmwareVars,
    string FirmwarePackage,
    IReadOnlyList<string> CdromControllerArguments,
    string CdromDevice,
    string KernelConsole)
{
    public static readonly QemuMachine Amd64 = new(
        Architecture: "amd64",
        Program: "qemu-system-x86_64",
        MachineArguments: ["-machine", "pc"],
        TcgCpu: null,
        HasBios: true,
        DefaultFirmwareCode: "/usr/share/OVMF/OVMF_CODE_4M.fd",
        DefaultFirmwareVars: "/usr/share/OVMF/OVMF_VARS_4M.fd",
        FirmwarePackage: "ovmf",
        CdromControllerArguments: [],
        CdromDevice: "ide-cd",
        KernelConsole: "console=ttyS0,115200");

    /// <summary>
    /// arm64: the generic virt board, UEFI only (AAVMF from qemu-efi-aarch64), the CD-ROM on virtio-scsi;
    /// off an arm64 host it runs under TCG, where a Cortex-A57 (no pointer authentication to emulate) is fastest.
    /// </summary>
    public static readonly QemuMachine Arm64 = new(
        Architecture: "arm64",
        Program: "qemu-system-aarch64",
        MachineArguments: ["-machine", "virt"],
        TcgCpu: "cortex-a57",
        HasBios: false,
        DefaultFirmwareCode: "/usr/share/AAVMF/AAVMF_CODE.fd",
        DefaultFirmwareVars: "/usr/share/AAVMF/AAVMF_VARS.fd",
        FirmwarePackage: "qemu-efi-aarch64",
        CdromControllerArguments: ["-device", "virtio-scsi-pci,id=scsi0"],
        CdromDevice: "scsi-cd",
        KernelConsole: "console=ttyAMA0,115200");

    /// <summary>
    /// i386: a PC like amd64 (SeaBIOS for BIOS), but Debian's only 32-bit OVMF is the Secure Boot build
    /// (ovmf-ia32), which needs a q35 machine with SMM and a secure flash; without enrolled keys it
    /// boots the SDK's unsigned GRUB. <c>auto</c> uses TCG: nested KVM often lacks SMM ("System Management
    /// Mode not supported by this hypervisor"); <c>BootTestAccelerator=kvm</c> still tries KVM.
    /// </summary>
    public static readonly QemuMachine I386 = new(
        Architecture: "i386",
        Program: "qemu-system-i386",
        MachineArguments: ["-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on"],
        TcgCpu: null,
        HasBios: true,
        DefaultFirmwareCode: "/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd",
        DefaultFirmwareVars: "/usr/share/OVMF/OVMF32_VARS_4M.fd",
        FirmwarePackage: "ovmf-ia32",
        CdromControllerArguments: [],
        CdromDevice: "ide-cd",
        KernelConsole: "console=ttyS0,115200")
    {
        KvmHosts = [],
    };

    public static readonly IReadOnlyList<QemuMachine> All = [Amd64, Arm64, I386];

    /// <summary>The CPU model under KVM: the host's own.</summary>
    public string? KvmCpu { get; init; } = "host";

    /// <summary>The USB stick's controller (an xHCI on every machine here) and its bus.</summary>
    public IReadOnlyList<string> UsbControllerArguments { get; init; } = ["-device", "qemu-xhci,id=xhci"];
    public string UsbBus { get; init; } = "xhci.0";

    /// <summary>Host architectures where KVM can run this guest; elsewhere <c>auto</c> goes straight to TCG.</summary>
    public IReadOnlyList<string> KvmHosts { get; init; } = [Architecture];

    /// <summary>The network card of the netboot modes: its option ROM (iPXE, package ipxe-qemu) does the PXE boot.</summary>
    public string NetworkDevice { get; init; } = "virtio-net-pci";

    public static QemuMachine? Find(string architecture) =>
        All.FirstOrDefault(m => string.Equals(m.Architecture, architecture, StringComparison.Ordinal));

    public static string Names => string.Join(", ", All.Select(m => m.Architecture));

    public IReadOnlyList<QemuBootMode> SupportedModes =>
        QemuBootMode.All.Where(m => HasBios || m.Firmware != QemuFirmware.Bios).ToArray();
}
