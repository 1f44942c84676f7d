using System.Net;
using System.Net.Sockets;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Netboot;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// What a network boot mode needs besides qemu: the netboot folder served over HTTP on 127.0.0.1
/// (a port of its own) and a TFTP root for qemu's built-in TFTP server.
/// </summary>
internal static class QemuNetbootStaging
{
    /// <summary>Serves the netboot folder on 127.0.0.1, on a port the system picks (so parallel boots never collide).</summary>
    public static StaticHttpServer StartHttpServer(QemuBootSettings _s, QemuBootMode mode, StreamWriter httpLog)
    {
        var folder = _s.NetbootDirectory ?? throw new LiveImageException(nameof(Strings.NetbootMissing), mode.Name);
        if (!Directory.Exists(folder)) throw new LiveImageException(nameof(Strings.NetbootMissing), mode.Name);
        var gate = new object();
        try
        {
            var server = StaticHttpServer.Start(folder, IPAddress.Loopback, 0, line =>
            {
                lock (gate) httpLog.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            });
            lock (gate) httpLog.WriteLine($"serving {folder} at http://127.0.0.1:{server.Port}/ (the guest: http://{QemuCommandLine.HostAddress}:{server.Port}/)");
            return server;
        }
        catch (SocketException e)
        {
            throw new LiveImageException(nameof(Strings.ServeFailed), "127.0.0.1:0", e.Message);
        }
    }

    /// <summary>
    /// The TFTP root qemu serves: links to the netboot folder's files, with the boot loader
    /// configurations pointing fetch= (liveimage.modules= for a stack) at the test's HTTP server instead of
    /// NetbootServer, and, in a folder of stacks, the image's own entry as the default.
    /// Returns the directory and the boot file the firmware asks DHCP for.
    /// </summary>
    public static (string Directory, string BootFile) StageTftp(QemuBootSettings _s, QemuBootMode mode, string temp, int port)
    {
        var folder = Path.GetFullPath(_s.NetbootDirectory!);
        var (bootFile, config) = mode.Firmware == QemuFirmware.Uefi
            ? (_s.NetbootEfiFile ?? "", NetbootConfig.GrubConfig)
            : ("pxelinux.0", NetbootConfig.PxelinuxConfig);
        var image = _s.NetbootImage;
        var stack = image.Length > 0 && File.Exists(Path.Combine(folder, NetbootStackMenus.Manifest(image)));
        string[] files = stack
            ? [NetbootStackMenus.Kernel(image), NetbootStackMenus.Initrd(image), NetbootStackMenus.Manifest(image)]
            : [NetbootConfig.Kernel, NetbootConfig.Initrd, NetbootConfig.Squashfs];
        foreach (var required in new[] { bootFile, config }.Concat(files))
        {
            if (required.Length == 0 || !File.Exists(Path.Combine(folder, required)))
                throw new LiveImageException(nameof(Strings.NetbootMissing), mode.Name + $" ({Path.Combine(folder, required)} is missing)");
        }
        var tftp = Path.Combine(temp, "tftp");
        var server = $"{QemuCommandLine.HostAddress}:{port}";
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder, file);
            if (relative.EndsWith(".squashfs", StringComparison.Ordinal) || relative.EndsWith(NetbootManifest.Extension, StringComparison.Ordinal)) continue; // over HTTP only
            var target = Path.Combine(tftp, relative);
            if (relative is NetbootConfig.PxelinuxConfig or NetbootConfig.GrubConfig or NetbootConfig.IpxeScript)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var text = NetbootConfig.WithServer(File.ReadAllText(file), server);
                File.WriteAllText(target, stack ? NetbootStackMenus.WithDefault(text, image) : text);
            }
            else
            {
                FileLinks.LinkOrCopy(file, target);
            }
        }
        return (tftp, bootFile);
    }
}
