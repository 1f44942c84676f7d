using System.Diagnostics;
using LiveImage.Tasks.Iso;
using LiveImage.Tasks.Processes;

namespace LiveImage.Tasks.Tests;

/// <summary>A fact that needs mksquashfs and xorriso (and isolinux's MBR): skipped, with the reason, without them.</summary>
public sealed class ImageToolsFactAttribute : FactAttribute
{
    public ImageToolsFactAttribute()
    {
        var missing = new[] { "mksquashfs", "unsquashfs", "xorriso" }.Where(t => HostTools.Find(t) is null).ToList();
        if (!File.Exists(VerifyImageTests.IsohybridMbr)) missing.Add(VerifyImageTests.IsohybridMbr);
        if (missing.Count > 0) Skip = "needs " + string.Join(", ", missing);
    }
}

/// <summary>
/// VerifyImage on small ISOs made here with mksquashfs and xorriso: one that is right, and ones
/// with every finding the task knows. No root, no mount, a second or two each.
/// </summary>
public sealed class VerifyImageTests : IDisposable
{
    public const string IsohybridMbr = "/usr/lib/ISOLINUX/isohdpfx.bin";
    private const string Kernel = "6.1.0-test-amd64";
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    // ---- parsers ----------------------------------------------------------------------------

    [Fact]
    public void ListingLinesAreParsedWithSymlinksDevicesAndSpaces()
    {
        var tree = SquashfsTree.Parse("""
            drwxr-xr-x 0/0                35 2026-11-22 05:32 
            lrwxrwxrwx 0/0                 8 2026-07-17 17:05 /sbin -> usr/sbin
            drwxr-xr-x 0/0                 3 2026-07-17 17:05 /usr
            drwxr-xr-x 0/0                 3 2026-07-17 17:05 /usr/sbin
            drwxr-xr-x 0/0                 3 2026-07-17 17:05 /usr/lib
            drwxr-xr-x 0/0                 3 2026-07-17 17:05 /usr/lib/systemd
            -rwxr-xr-x 0/0             91024 2026-07-17 17:05 /usr/lib/systemd/systemd
            lrwxrwxrwx 0/0                22 2026-04-13 19:38 /usr/sbin/init -> ../lib/systemd/systemd
            -rw-r--r-- 0/0                 3 2026-11-22 05:32 /a file with spaces
            crw-r--r-- 0/0             1,  3 2026-11-22 05:32 /dev/null
            """);
        var init = tree.Resolve("/sbin/init");
        Assert.NotNull(init);
        Assert.Equal("/usr/lib/systemd/systemd", init.Path);
        Assert.True(init.IsFile && init.IsExecutable);
        Assert.Equal(91024, init.Size);
        Assert.NotNull(tree.Get("/a file with spaces"));
        Assert.False(tree.Get("/dev/null")!.IsWhiteout);
        Assert.True(tree.Resolve("/")!.IsDirectory);
        Assert.Null(tree.Resolve("/sbin/nothing"));
    }

    [Fact]
    public void ModulesMergeUpperOverLowerAndWhiteoutsHidePaths()
    {
        var lower = """
            drwxr-xr-x 0/0   3 2026-01-01 00:00 /etc
            -rw-r--r-- 0/0  33 2026-01-01 00:00 /etc/machine-id
            drwxr-xr-x 0/0   3 2026-01-01 00:00 /etc/ssh
            -rw------- 0/0 400 2026-01-01 00:00 /etc/ssh/ssh_host_rsa_key
            -rwxr-xr-x 0/0  40 2026-01-01 00:00 /usr/sbin/policy-rc.d
            """;
        var upper = """
            -rw-r--r-- 0/0   0 2026-01-02 00:00 /etc/machine-id
            c--------- 0/0 0, 0 2026-01-02 00:00 /etc/ssh
            c--------- 0/0 0, 0 2026-01-02 00:00 /usr/sbin/policy-rc.d
            """;
        var tree = SquashfsTree.Parse(lower, upper);
        Assert.Equal(0, tree.Get("/etc/machine-id")!.Size);
        Assert.Equal(1, tree.Get("/etc/machine-id")!.Module);
        Assert.Null(tree.Get("/etc/ssh"));
        Assert.Null(tree.Get("/etc/ssh/ssh_host_rsa_key"));
        Assert.Null(tree.Get("/usr/sbin/policy-rc.d"));
    }

    [Fact]
    public void XorrisoReportGivesBootEntriesSystemAreaAndFileAddresses()
    {
        var report = IsoReport.Parse("""
            El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4         641
            El Torito boot img :   2  UEFI  y   none  0x0000  0x00   2384          45
            System area summary: MBR isohybrid cyl-align-on GPT
            MBR partition      :   1   0x80  0x00            0       522240
            GPT disk GUID      :      32c90aa438c6d9428913cd18b8a7dd7d
            File data lba:  0 ,     1428 ,   102224 , 209354752 , '/live/filesystem.squashfs'
            File data lba:  0 ,   124024 ,     5943 , 12171200 , '/live/vmlinuz'
            """.Split('\n'));
        Assert.Equal(["BIOS", "UEFI"], report.BootPlatforms);
        Assert.Equal("MBR isohybrid cyl-align-on GPT", report.SystemArea);
        Assert.True(report.HasMbrPartitionTable && report.HasGpt);
        Assert.Equal(1428L * 2048, report.Files["/live/filesystem.squashfs"].Offset);
        Assert.Equal(12171200, report.Files["/live/vmlinuz"].Size);
    }

    // ---- real ISOs --------------------------------------------------------------------------

    /// <summary>A root filesystem as the SDK ships it: merged /usr, systemd as init, a kernel with its modules, locked root.</summary>
    private string GoodRoot(string name)
    {
        var root = Path.Combine(_dir.Path, name);
        _dir.File($"{name}/usr/lib/systemd/systemd", "#!/bin/sh\n", executable: true);
        Directory.CreateSymbolicLink(Path.Combine(root, "sbin"), "usr/sbin");
        Directory.CreateSymbolicLink(Path.Combine(root, "lib"), "usr/lib");
        Directory.CreateDirectory(Path.Combine(root, "usr/sbin"));
        File.CreateSymbolicLink(Path.Combine(root, "usr/sbin/init"), "../lib/systemd/systemd");
        _dir.File($"{name}/boot/vmlinuz-{Kernel}", new string('K', 5000));
        _dir.File($"{name}/boot/initrd.img-{Kernel}", "initrd");
        _dir.File($"{name}/boot/config-{Kernel}", "CONFIG_SQUASHFS=y\nCONFIG_SQUASHFS_ZLIB=y\nCONFIG_SQUASHFS_ZSTD=y\n");
        _dir.File($"{name}/usr/lib/modules/{Kernel}/modules.dep", "");
        _dir.File($"{name}/etc/machine-id", "uninitialized\n");
        _dir.File($"{name}/etc/shadow", "root:!*:20000:0:99999:7:::\nuser:$y$j9T$salt$hash:20000:0:99999:7:::\n");
        _dir.File($"{name}/etc/apt/sources.list", "deb http://image.example/debian trixie main\n");
        _dir.File($"{name}/etc/apt/apt.conf.d/70debconf", "DPkg::Pre-Install-Pkgs {\"/usr/sbin/dpkg-preconfigure --apt || true\";};\n");
        _dir.File($"{name}/etc/ssh/sshd_config", "# only the config, no host keys\n");
        return root;
    }

    private static void Run(string program, params string[] arguments)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {output.Result}{error.Result}");
    }

    /// <summary>An ISO tree around the given squashfs files, written as an ISO with (or without) BIOS and UEFI boot records.</summary>
    private string Iso(string name, IReadOnlyList<string> squashfs, bool bootRecords = true, string? kernelFrom = null)
    {
        var tree = Path.Combine(_dir.Path, name + "-tree");
        var live = Path.Combine(tree, "live");
        Directory.CreateDirectory(live);
        File.WriteAllText(Path.Combine(live, "vmlinuz"), new string('K', 5000));
        File.WriteAllText(Path.Combine(live, "initrd.img"), "initrd");
        if (squashfs.Count == 1) File.Copy(squashfs[0], Path.Combine(live, "filesystem.squashfs"));
        else
        {
            foreach (var s in squashfs) File.Copy(s, Path.Combine(live, Path.GetFileName(s)));
            File.WriteAllLines(Path.Combine(live, Squash.ModuleList), squashfs.Select(Path.GetFileName)!);
        }
        var iso = Path.Combine(_dir.Path, name + ".iso");
        var args = new List<string> { "-as", "mkisofs", "-quiet", "-o", iso, "-V", "TEST" };
        if (bootRecords)
        {
            _dir.File($"{name}-tree/isolinux/isolinux.bin", new string('B', 4096));
            _dir.File($"{name}-tree/boot/grub/efi.img", new string('E', 65536));
            args.AddRange(["-isohybrid-mbr", IsohybridMbr, "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat", "-no-emul-boot",
                "-boot-load-size", "4", "-boot-info-table", "-eltorito-alt-boot", "-e", "boot/grub/efi.img", "-no-emul-boot", "-isohybrid-gpt-basdat"]);
        }
        args.Add(tree);
        Run("xorriso", [.. args]);
        return iso;
    }

    private string Squashfs(string root, string name, params string[] extra)
    {
        var output = Path.Combine(_dir.Path, name);
        var compressor = extra.Contains("-comp") ? [] : new[] { "-comp", "gzip" };
        Run("mksquashfs", [root, output, "-noappend", "-no-progress", "-quiet", "-all-root", .. compressor, .. extra]);
        return output;
    }

    private VerifyImage Verify(string iso, Action<VerifyImage>? configure = null)
    {
        var task = new VerifyImage
        {
            BuildEngine = _engine, IsoPath = iso, Architecture = "amd64", Compression = "gzip",
            BuildMirror = "http://build.example/debian", ImageMirror = "http://image.example/debian",
            LogFile = Path.Combine(_dir.Path, "verify.log"),
        };
        configure?.Invoke(task);
        return task;
    }

    [ImageToolsFact]
    public void AGoodImageHasNoFindings()
    {
        var iso = Iso("good", [Squashfs(GoodRoot("good-root"), "filesystem.squashfs")]);
        var task = Verify(iso);
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);
        Assert.Equal(0, task.Findings);
        Assert.Contains(_engine.Messages, m => m.Message == "verify [amd64]: no findings");
        // the log has the commands, never a file's content
        var log = File.ReadAllText(Path.Combine(_dir.Path, "verify.log"));
        Assert.Contains("unsquashfs -no-wildcards -cat", log);
        Assert.DoesNotContain("root:!*", log);
        Assert.DoesNotContain(_engine.Messages, m => m.Message!.Contains("root:!*"));
    }

    [ImageToolsFact]
    public void EveryShippingMistakeIsACodedFinding()
    {
        var root = GoodRoot("bad-root");
        File.Delete(Path.Combine(root, "usr/lib/systemd/systemd"));                         // init dangles
        Directory.Delete(Path.Combine(root, $"usr/lib/modules/{Kernel}"), recursive: true);  // no modules
        _dir.File("bad-root/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", executable: true);
        _dir.File("bad-root/etc/ssh/ssh_host_ed25519_key", "PRIVATE");
        _dir.File("bad-root/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        _dir.File("bad-root/etc/shadow", "root:$y$j9T$salt$hash:20000:0:99999:7:::\n");
        _dir.File("bad-root/etc/apt/sources.list.d/build.list", "deb http://build.example/debian trixie main\n");
        _dir.File("bad-root/etc/apt/apt.conf.d/01proxy", "// a comment: Acquire::http::Proxy \"http://ignored.example\";\nAcquire::http::Proxy \"http://proxy.example:3128\";\n");
        var iso = Iso("bad", [Squashfs(root, "filesystem.squashfs")], bootRecords: false);

        var task = Verify(iso, t => t.Compression = "xz");
        Assert.False(task.Execute());
        Assert.Equal(
            ["LIVE4007", "LIVE4009", "LIVE4010", "LIVE4011", "LIVE4011", "LIVE4011", "LIVE4011", "LIVE4013", "LIVE4017", "LIVE4018"],
            _engine.ErrorCodes.Order());
        Assert.Equal(["LIVE4014", "LIVE4015", "LIVE4016"], _engine.Warnings.Select(w => w.Code).Order());
        Assert.Contains(_engine.Errors, e => e.Code == "LIVE4009" && e.Message!.Contains("../lib/systemd/systemd"));
        Assert.Contains(_engine.Errors, e => e.Code == "LIVE4010" && e.Message!.Contains(Kernel));
        Assert.Contains(_engine.Errors, e => e.Code == "LIVE4017" && e.Message!.Contains("/etc/ssh/ssh_host_ed25519_key"));
        Assert.Contains(_engine.Errors, e => e.Code == "LIVE4011" && e.Message!.Contains("UEFI El Torito"));
        Assert.Contains(_engine.Warnings, w => w.Code == "LIVE4014" && w.Message!.Contains("/etc/apt/sources.list.d/build.list, line 1"));
        Assert.Contains(_engine.Warnings, w => w.Code == "LIVE4015" && w.Message!.Contains("proxy.example:3128") && !w.Message.Contains("ignored.example"));
        // no password hash in any message
        Assert.DoesNotContain(_engine.Errors, e => e.Message!.Contains("$y$"));
        Assert.Equal(13, task.Findings);
    }

    [ImageToolsFact]
    public void BuildMirrorIsFineWhenItIsAlsoTheImageMirror()
    {
        var root = GoodRoot("same-root");
        _dir.File("same-root/etc/apt/sources.list", "deb http://build.example/debian trixie main\n");
        var iso = Iso("same", [Squashfs(root, "filesystem.squashfs")]);
        Assert.True(Verify(iso, t => t.ImageMirror = "http://build.example/debian/").Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);
    }

    [ImageToolsFact]
    public void KernelWithoutTheCompressorIsLIVE4008()
    {
        var root = GoodRoot("xz-root");
        _dir.File($"xz-root/boot/config-{Kernel}", "CONFIG_SQUASHFS=y\nCONFIG_SQUASHFS_ZLIB=y\n");
        var iso = Iso("xz", [Squashfs(root, "filesystem.squashfs", "-comp", "xz")]);
        Assert.False(Verify(iso, t => t.Compression = "xz").Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE4008", error.Code);
        Assert.Contains("CONFIG_SQUASHFS_XZ", error.Message);
    }

    [ImageToolsFact]
    public void ModulesAreVerifiedAsLiveBootStacksThem()
    {
        // the lower module has what finalize removes; the upper one whites it out, as overlayfs layers do
        var lower = GoodRoot("lower");
        _dir.File("lower/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", executable: true);
        _dir.File("lower/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        var upper = Path.Combine(_dir.Path, "upper");
        _dir.File("upper/etc/machine-id", "");
        Directory.CreateDirectory(Path.Combine(upper, "usr/sbin"));
        var iso = Iso("modules", [
            Squashfs(lower, "00-bootstrap.squashfs"),
            Squashfs(upper, "90-finalize.squashfs", "-p", "/usr/sbin/policy-rc.d c 000 0 0 0 0"),
        ]);
        Assert.True(Verify(iso).Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);

        // without the upper module's whiteout, policy-rc.d shows through
        var unfinished = Iso("unfinished", [Squashfs(lower, "00-bootstrap.squashfs"), Squashfs(upper, "90-finalize.squashfs")]);
        _engine.Errors.Clear();
        Assert.False(Verify(unfinished).Execute());
        Assert.Equal(["LIVE4013"], _engine.ErrorCodes);
    }

    [ImageToolsFact]
    public void TruncatedSquashfsIsLIVE4006()
    {
        var root = GoodRoot("cut-root");
        File.WriteAllBytes(Path.Combine(root, "noise"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(256 * 1024));
        var squashfs = Squashfs(root, "filesystem.squashfs");
        using (var f = new FileStream(squashfs, FileMode.Open)) f.SetLength(f.Length / 2);
        var iso = Iso("cut", [squashfs]);
        Assert.False(Verify(iso).Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE4006", error.Code);
    }

    [ImageToolsFact]
    public void IsoWithoutKernelOrRootFilesystemIsLIVE4004AndLIVE4005()
    {
        var tree = Path.Combine(_dir.Path, "empty-tree");
        _dir.File("empty-tree/live/README", "nothing here");
        var iso = Path.Combine(_dir.Path, "empty.iso");
        Run("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, tree);
        Assert.False(Verify(iso, t => t.Architecture = "arm64").Execute());
        Assert.Equal(["LIVE4004", "LIVE4004", "LIVE4005", "LIVE4011"], _engine.ErrorCodes.Order());
        Assert.DoesNotContain(_engine.Errors, e => e.Message!.Contains("BIOS")); // arm64 boots with UEFI only
    }

    [Fact]
    public void MissingIsoIsLIVE4019()
    {
        Assert.False(Verify(Path.Combine(_dir.Path, "none.iso")).Execute());
        Assert.Equal(["LIVE4019"], _engine.ErrorCodes);
    }
}
