using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Netboot;

/// <summary>One image of a netboot folder of stacks: its name (the prefix of its files), menu title and kernel arguments.</summary>
internal sealed record NetbootImageEntry(string Image, string Title, string KernelArguments);

/// <summary>
/// The netboot folder of images built on images (stacks of modules), which several images can share:
/// per image <c>&lt;image&gt;.vmlinuz</c>, <c>&lt;image&gt;.initrd.img</c>, the manifest
/// <c>&lt;image&gt;.modules</c> and <c>&lt;image&gt;.menu</c> (its menu entry: the title, then the kernel
/// arguments), and the modules once each. The boot menus (pxelinux, GRUB, iPXE) are written from all
/// the folder's <c>.menu</c> files, one entry per image, in name order.
/// </summary>
internal static partial class NetbootStackMenus
{
    public const string MenuExtension = ".menu";
    public const string MenuTitle = "Live images (netboot)";

    public static string Kernel(string image) => image + ".vmlinuz";
    public static string Initrd(string image) => image + ".initrd.img";
    public static string Manifest(string image) => image + NetbootManifest.Extension;
    public static string Menu(string image) => image + MenuExtension;

    /// <summary>The kernel argument that makes the SDK's initramfs script download and check the image's stack.</summary>
    public static string ModulesArgument(string server, string image) => $"liveimage.modules=http://{server}/{Manifest(image)}";

    /// <summary>An image name fit for file names and menu labels: letters, digits, '.', '_', '+', '-'.</summary>
    public static bool IsImageName(string name) => ImageNamePattern().IsMatch(name);

    public static NetbootImageEntry Entry(string image, string title, string liveArguments, string kernelArguments, string server) =>
        new(image, title, string.Join(' ', new[] { liveArguments, ModulesArgument(server, image), kernelArguments }.Where(p => p.Length > 0)));

    public static string WriteEntry(NetbootImageEntry entry) => entry.Title + "\n" + entry.KernelArguments + "\n";

    public static NetbootImageEntry ReadEntry(string image, string text)
    {
        var lines = text.Split('\n');
        return new NetbootImageEntry(image, lines[0].Trim(), lines.Length > 1 ? lines[1].Trim() : "");
    }

    public static string Pxelinux(IReadOnlyList<NetbootImageEntry> entries, int timeoutSeconds)
    {
        var lines = new List<string>
        {
            "SERIAL 0 115200",
            "UI menu.c32",
            $"MENU TITLE {MenuTitle}",
            "PROMPT 0",
            $"TIMEOUT {Math.Max(1, timeoutSeconds * 10)}",
            $"DEFAULT {entries[0].Image}",
        };
        foreach (var e in entries)
        {
            lines.Add($"LABEL {e.Image}");
            lines.Add($"  MENU LABEL {e.Title}");
            lines.Add($"  KERNEL {Kernel(e.Image)}");
            lines.Add($"  APPEND initrd={Initrd(e.Image)} {e.KernelArguments}");
        }
        return string.Join('\n', lines) + "\n";
    }

    public static string Grub(IReadOnlyList<NetbootImageEntry> entries, int timeoutSeconds)
    {
        var lines = new List<string>
        {
            "serial --unit=0 --speed=115200",
            "terminal_input console serial",
            "terminal_output console serial",
            $"set default={entries[0].Image}",
            $"set timeout={timeoutSeconds}",
        };
        foreach (var e in entries)
        {
            lines.Add($"menuentry \"{e.Title.Replace("\"", "'")}\" --id {e.Image} {{");
            lines.Add($"    linux /{Kernel(e.Image)} {e.KernelArguments}");
            lines.Add($"    initrd /{Initrd(e.Image)}");
            lines.Add("}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>boot.ipxe: a menu of the images, everything over HTTP (<c>chain http://SERVER/boot.ipxe</c>).</summary>
    public static string Ipxe(IReadOnlyList<NetbootImageEntry> entries, string server, int timeoutSeconds)
    {
        var lines = new List<string> { "#!ipxe", $"menu {MenuTitle}" };
        lines.AddRange(entries.Select(e => $"item {e.Image} {e.Title}"));
        lines.Add($"choose --default {entries[0].Image} --timeout {Math.Max(1, timeoutSeconds) * 1000} image || exit");
        lines.Add("goto ${image}");
        foreach (var e in entries)
        {
            lines.Add($":{e.Image}");
            lines.Add($"kernel http://{server}/{Kernel(e.Image)} initrd={Initrd(e.Image)} {e.KernelArguments}");
            lines.Add($"initrd http://{server}/{Initrd(e.Image)}");
            lines.Add("boot");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>A menu (any of the three) with <paramref name="image"/>'s entry as the default: the boot test boots the image it tests.</summary>
    public static string WithDefault(string text, string image)
    {
        text = PxelinuxDefault().Replace(text, "DEFAULT " + image);
        text = GrubDefault().Replace(text, "set default=" + image);
        return IpxeDefault().Replace(text, "--default " + image);
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ImageNamePattern();

    [GeneratedRegex(@"^DEFAULT \S+$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex PxelinuxDefault();

    [GeneratedRegex(@"^set default=\S+$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex GrubDefault();

    [GeneratedRegex(@"--default \S+", RegexOptions.CultureInvariant)]
    private static partial Regex IpxeDefault();
}
