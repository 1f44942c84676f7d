using System.Text.RegularExpressions;
using LiveImage.Tasks.Iso;

namespace LiveImage.Tasks.Netboot;

/// <summary>
/// The boot loader configurations of the netboot folder, as pure functions of the menu entries:
/// pxelinux (BIOS PXE), GRUB (UEFI network boot) and an iPXE script. All three start the same
/// kernel with the same arguments; the kernel and initrd come from the TFTP (or, for iPXE, HTTP)
/// server, and live-boot fetches the root filesystem with <c>fetch=http://SERVER/filesystem.squashfs</c>
/// into RAM.
/// </summary>
internal static partial class NetbootConfig
{
    public const string Kernel = "vmlinuz";
    public const string Initrd = "initrd.img";
    public const string Squashfs = "filesystem.squashfs";
    public const string PxelinuxConfig = "pxelinux.cfg/default";
    public const string GrubConfig = "grub/grub.cfg";
    /// <summary>GRUB's prefix inside the TFTP root: the EFI image looks for grub.cfg there.</summary>
    public const string GrubPrefix = "/grub";
    public const string IpxeScript = "boot.ipxe";

    /// <summary>The PXE loaders (package pxelinux) and their modules (package syslinux-common) copied into the folder.</summary>
    public static readonly string[] PxelinuxLoaders = ["pxelinux.0", "lpxelinux.0"];
    public static readonly string[] SyslinuxModules = ["ldlinux.c32", "menu.c32", "libutil.c32"];

    /// <summary>GRUB modules built into the UEFI network boot image: network, TFTP/HTTP, Linux, menu, serial console.</summary>
    public static readonly string[] GrubNetModules =
    [
        "efinet", "net", "tftp", "http", "normal", "boot", "linux", "configfile", "echo", "serial", "terminal",
        "efi_gop", "all_video", "gzio", "test", "ls", "cat", "part_gpt", "part_msdos", "fat",
    ];

    /// <summary>The kernel argument that makes live-boot download the root filesystem from <paramref name="server"/>.</summary>
    public static string FetchArgument(string server) => $"fetch=http://{server}/{Squashfs}";

    /// <summary>
    /// The ISO's boot menu entries with the fetch argument after the live arguments, without "load to RAM"
    /// (a netbooted image always runs from RAM).
    /// </summary>
    public static IReadOnlyList<BootEntry> Entries(string title, string liveArguments, string kernelArguments, string server) =>
        BootMenu.Entries(title, Join(liveArguments, FetchArgument(server)), kernelArguments)
            .Where(e => !e.KernelArguments.Split(' ').Contains("toram"))
            .ToArray();

    /// <summary>pxelinux.cfg/default: paths relative to the TFTP root, the serial console as on the ISO.</summary>
    public static string Pxelinux(string menuTitle, IReadOnlyList<BootEntry> entries, int timeoutSeconds)
    {
        var lines = new List<string>
        {
            "SERIAL 0 115200",
            "UI menu.c32",
            $"MENU TITLE {menuTitle}",
            "PROMPT 0",
            $"TIMEOUT {Math.Max(1, timeoutSeconds * 10)}",
            $"DEFAULT {entries[0].Label}",
        };
        foreach (var e in entries)
        {
            lines.Add($"LABEL {e.Label}");
            lines.Add($"  MENU LABEL {e.Title}");
            lines.Add($"  KERNEL {Kernel}");
            lines.Add($"  APPEND initrd={Initrd} {e.KernelArguments}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// grub/grub.cfg for the UEFI network boot image: GRUB netbooted from TFTP has its root on the
    /// TFTP server, so /vmlinuz is loaded from there.
    /// </summary>
    public static string Grub(IReadOnlyList<BootEntry> entries, int timeoutSeconds)
    {
        var lines = new List<string>
        {
            "serial --unit=0 --speed=115200",
            "terminal_input console serial",
            "terminal_output console serial",
            "set default=0",
            $"set timeout={timeoutSeconds}",
        };
        foreach (var e in entries)
        {
            lines.Add($"menuentry \"{e.Title.Replace("\"", "'")}\" {{");
            lines.Add($"    linux /{Kernel} {e.KernelArguments}");
            lines.Add($"    initrd /{Initrd}");
            lines.Add("}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// boot.ipxe: everything over HTTP from the server (iPXE: <c>chain http://SERVER/boot.ipxe</c>).
    /// <c>initrd=</c> on the command line lets an EFI-stub kernel find the initrd iPXE loaded.
    /// </summary>
    public static string Ipxe(BootEntry entry, string server) =>
        $"""
        #!ipxe
        echo {entry.Title}
        kernel http://{server}/{Kernel} initrd={Initrd} {entry.KernelArguments}
        initrd http://{server}/{Initrd}
        boot

        """.Replace("\r\n", "\n");

    /// <summary>
    /// True for a server that can stand in <c>http://SERVER/</c>: a host name, an IPv4 address or a
    /// bracketed IPv6 address, with an optional port; no scheme, path, user or spaces.
    /// </summary>
    public static bool IsValidServer(string? server) => server is not null && ServerPattern().IsMatch(server);

    /// <summary>
    /// The same configuration text with every <c>fetch=</c> (and <c>liveimage.modules=</c>) URL pointing at <paramref name="server"/>
    /// (the boot test serves the folder on a port of its own).
    /// </summary>
    public static string WithServer(string text, string server) =>
        FetchUrl().Replace(text, m => m.Groups[1].Value + "=http://" + server + "/");

    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(?:6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex ServerPattern();

    [GeneratedRegex(@"(fetch|liveimage\.modules)=https?://[^/\s]+/", RegexOptions.CultureInvariant)]
    private static partial Regex FetchUrl();

    private static string Join(params string[] parts) => string.Join(' ', parts.Where(p => p.Length > 0));
}
