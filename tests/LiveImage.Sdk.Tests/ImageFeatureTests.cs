using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// What the reference texts ask of a live image, on one copy of the built minimal sample: hooks in
/// file-name order (chroot and host side, filtered by architecture, with the helper library),
/// include files with mode and owner, an expiring password, a boot menu entry and a splash in both
/// menus, the package manifest, the metapackage, and a usage line per stage.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class ImageFeatureTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void EveryCustomisationLandsInTheImageItsMenusAndItsManifests()
    {
        var copy = image.CopyOfBuiltImage("features", """
            <Hook Include="hooks/0050-chroot.sh" RunIn="chroot" />
            <Hook Include="hooks/0150-arm64-only.sh" Architectures="arm64" />
            <IncludeFile Include="files/**" Owner="1000:1000" />
            <BootMenuEntry Include="rescue" Title="Rescue shell" KernelArguments="systemd.unit=rescue.target" />
            """);
        WriteHook(copy, "0050-chroot.sh", """
            #!/bin/sh
            set -eu
            . "$LIVEIMAGE_HELPERS"
            export_env
            mount_proc /
            echo "chroot uid=$(id -u) root=$1 frontend=$DEBIAN_FRONTEND" > /etc/liveimage-order
            """);
        WriteHook(copy, "0150-arm64-only.sh", "#!/bin/sh\necho arm64 >> \"$1/etc/liveimage-order\"\n");
        WriteHook(copy, "0200-host.sh", "#!/bin/sh\nset -eu\necho \"host $(basename \"$1\")\" >> \"$1/etc/liveimage-order\"\n");
        var secret = Path.Combine(copy, "files/etc/liveimage/app.conf");
        Directory.CreateDirectory(Path.GetDirectoryName(secret)!);
        File.WriteAllText(secret, "key=value\n");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        WritePng(Path.Combine(copy, "splash.png"), 640, 480);

        var build = image.Workspace.Build(copy, output, "-p:ExpireLivePassword=true", "-p:SplashImage=splash.png", "-p:PackMetapackage=true");
        Assert.True(build.Succeeded, "the build with hooks, include files, a menu entry and a splash failed");
        Assert.Matches(new Regex(@"packages \[amd64\]: layer \d+ MiB, rootfs at most \d+ MiB \(its layers' sum\), \d+ packages installed"), build.Output);
        Assert.Matches(new Regex(@"hook 0200-host\.sh \[amd64\]: layer \d+ MiB"), build.Output);

        // apt: every dpkg step in the stage's log, no progress bar; Recommends stay apt's default in the image
        var packagesLog = File.ReadAllText(Path.Combine(copy, "obj/Release/amd64/logs/packages.log"));
        Assert.Contains("Setting up less", packagesLog);
        Assert.DoesNotContain("Progress: [", packagesLog);
        Assert.DoesNotContain("\r", packagesLog);

        var squashfs = Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.squashfs");
        var (_, confFiles) = Tools.Run("unsquashfs", "-lc", "-d", "", squashfs, "/etc/apt/apt.conf.d");
        var aptConf = string.Concat(confFiles.Split('\n').Where(l => l.StartsWith("/etc/apt/apt.conf.d/", StringComparison.Ordinal))
            .Select(f => Tools.ReadFromSquashfs(squashfs, f.Trim())));
        Assert.Contains("NeverAutoRemove", aptConf); // apt's own 01autoremove: the files were read
        Assert.DoesNotMatch(new Regex(@"Install-Recommends\s+""?(false|0)", RegexOptions.IgnoreCase), aptConf);
        Assert.Equal("chroot uid=0 root=/ frontend=noninteractive\nhost root\n", Tools.ReadFromSquashfs(squashfs, "etc/liveimage-order"));
        var (_, listing) = Tools.Run("unsquashfs", "-lln", "-d", "", squashfs, "/etc/liveimage/app.conf");
        Assert.Matches(new Regex(@"-rw-r----- 1000/1000\s+10 .* /etc/liveimage/app.conf"), listing);

        // the expiring password: blank, and changed "on day 0", so login forces a new one
        var user = Tools.ReadFromSquashfs(squashfs, "etc/shadow").Split('\n').Single(l => l.StartsWith("user:", StringComparison.Ordinal)).Split(':');
        Assert.Equal("", user[1]);
        Assert.Equal("0", user[2]);

        var iso = Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso");
        var isolinux = ExtractFromIso(iso, "/isolinux/isolinux.cfg");
        var grub = ExtractFromIso(iso, "/boot/grub/grub.cfg");
        foreach (var menu in new[] { isolinux, grub })
        {
            Assert.Contains("Rescue shell", menu);
            Assert.Contains("systemd.unit=rescue.target", menu);
            Assert.Contains("toram", menu);
            Assert.Contains("splash.png", menu);
        }
        var (_, files) = Tools.Run("xorriso", "-indev", iso, "-find", "/", "-name", "splash.png");
        Assert.Contains("/isolinux/splash.png", files);
        Assert.Contains("/boot/grub/splash.png", files);

        var manifest = File.ReadAllText(Path.ChangeExtension(iso, ".packages"));
        Assert.Matches(new Regex(@"^less \S+ amd64$", RegexOptions.Multiline), manifest);
        Assert.Equal(manifest, ExtractFromIso(iso, "/live/filesystem.packages"));

        var deb = Assert.Single(Directory.GetFiles(Path.Combine(copy, "bin/Release/amd64"), "*.deb"));
        var (code, info) = Tools.Run("dpkg-deb", "--info", deb);
        Assert.Equal(0, code);
        Assert.Matches(new Regex(@"Package: debian-live-minimal-live"), info);
        Assert.Matches(new Regex(@"Depends: .*\bless\b"), info);
        Assert.Matches(new Regex(@"Depends: .*\blive-boot\b"), info);
    }

    private static void WriteHook(string project, string name, string text)
    {
        var path = Path.Combine(project, "hooks", name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
    }

    private static string ExtractFromIso(string iso, string path)
    {
        var target = Path.Combine(Path.GetTempPath(), $"liveimage-extract-{Guid.NewGuid():N}");
        try
        {
            var (code, text) = Tools.Run("xorriso", "-osirrox", "on", "-indev", iso, "-extract", path, target);
            Assert.True(code == 0, text);
            return File.ReadAllText(target);
        }
        finally
        {
            File.Delete(target);
        }
    }

    /// <summary>A valid grey RGB PNG: signature, IHDR, one zlib IDAT, IEND, each chunk with its CRC.</summary>
    private static void WritePng(string path, int width, int height)
    {
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        Chunk(file, "IHDR", header);
        using var pixels = new MemoryStream();
        using (var zlib = new ZLibStream(pixels, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + width * 3];
            Array.Fill(row, (byte)0x40, 1, width * 3);
            for (var y = 0; y < height; y++) zlib.Write(row);
        }
        Chunk(file, "IDAT", pixels.ToArray());
        Chunk(file, "IEND", []);
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
