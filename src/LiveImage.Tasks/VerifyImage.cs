using System.Text.RegularExpressions;
using System.Text;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Iso;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Inspects a built ISO without booting or mounting it (no root-owned mount to leak, and seconds
/// instead of a boot; issue 6, image verification):
/// xorriso reports the El Torito entries, the system area (hybrid MBR, GPT) and where each file's
/// data lies; unsquashfs then reads the squashfs (or the per-layer modules) in place inside the
/// ISO (-o offset) for its superblock, its file list and the few small files checked. Each finding
/// is a coded LIVE4xxx error or warning; nothing is extracted to disk and no file content (the
/// shadow file above all) reaches a log.
/// </summary>
public sealed partial class VerifyImage : LiveImageTask
{
    [Required] public string IsoPath { get; set; } = "";
    public string Architecture { get; set; } = "amd64";
    /// <summary>The compressor the project asked for (SquashfsCompression); empty: not compared.</summary>
    public string Compression { get; set; } = "";
    public bool LockRootPassword { get; set; } = true;
    public string BuildMirror { get; set; } = "";
    /// <summary>The mirror the image's apt is meant to use; the build mirror must not remain when they differ.</summary>
    public string ImageMirror { get; set; } = "";
    /// <summary>The distribution the image was built from: its kernel's file names.</summary>
    public string Distribution { get; set; } = KnownDistributions.Default;
    /// <summary>Where the commands run are logged (never file contents).</summary>
    public string LogFile { get; set; } = "";

    /// <summary>The number of errors and warnings found (for tests and the summary line).</summary>
    internal int Findings { get; private set; }

    private static readonly Dictionary<string, string> KernelOption = new(StringComparer.Ordinal)
    {
        ["gzip"] = "CONFIG_SQUASHFS_ZLIB", ["lzo"] = "CONFIG_SQUASHFS_LZO", ["lz4"] = "CONFIG_SQUASHFS_LZ4",
        ["xz"] = "CONFIG_SQUASHFS_XZ", ["zstd"] = "CONFIG_SQUASHFS_ZSTD", ["lzma"] = "CONFIG_SQUASHFS_LZMA",
    };

    private string _iso = "";
    private IReadOnlyList<IsoFile> _modules = [];

    protected override void ExecuteCore()
    {
        _iso = Path.GetFullPath(IsoPath);
        High(nameof(Strings.StageStarting), "verify", Architecture, _iso);
        var started = DateTime.UtcNow;
        if (LogFile.Length > 0 && File.Exists(LogFile)) File.Delete(LogFile);
        if (!File.Exists(_iso)) throw new LiveImageException(nameof(Strings.CannotInspectImage), _iso, "the file does not exist");

        var report = ReadIsoReport();
        CheckBootRecords(report);
        foreach (var name in new[] { "/live/vmlinuz", "/live/initrd.img" })
            if (!report.Files.TryGetValue(name, out var f) || f.Size == 0) Error(nameof(Strings.KernelNotInIso), _iso, name);

        _modules = RootFilesystemModules(report);
        if (_modules.Count > 0 && _modules.All(CheckSuperblock))
        {
            var tree = SquashfsTree.Parse([.. _modules.Select(List)]);
            CheckInit(tree);
            var kernelVersion = CheckKernel(tree, report);
            if (kernelVersion is not null) CheckKernelReadsSquashfs(tree, kernelVersion);
            CheckShippingState(tree);
        }
        High(nameof(Strings.StageFinished), "verify", Architecture, (DateTime.UtcNow - started).TotalSeconds);
        Log.LogMessage(MessageImportance.High, $"verify [{Architecture}]: {(Findings == 0 ? "no findings" : $"{Findings} finding(s)")}");
    }

    private void Error(string resource, params object[] args)
    {
        Findings++;
        Log.LogErrorWithCodeFromResources(resource, args);
    }

    private void Warning(string resource, params object[] args)
    {
        Findings++;
        Log.LogWarningWithCodeFromResources(resource, args);
    }

    // ---- the ISO --------------------------------------------------------------------------------

    private IsoReport ReadIsoReport()
    {
        var run = Capture("xorriso", ["-indev", _iso, "-report_el_torito", "plain", "-report_system_area", "plain", "-find", "/", "-type", "f", "-exec", "report_lba", "--"]);
        if (run.ExitCode != 0) throw new LiveImageException(nameof(Strings.CannotInspectImage), _iso, $"xorriso exit code {run.ExitCode}: {Tail(run.Error)}");
        return IsoReport.Parse((run.Output + "\n" + run.Error).Split('\n'));
    }

    private void CheckBootRecords(IsoReport report)
    {
        var arch = DebianArchitecture.Find(Architecture);
        var bios = arch?.HasBios ?? true;
        var uefi = arch?.GrubEfiTarget is not null;
        if (bios && !report.BootPlatforms.Contains("BIOS")) Error(nameof(Strings.IsoBootRecordMissing), _iso, "a BIOS El Torito boot entry (isolinux)", "boot from a CD with BIOS");
        if (uefi && !report.BootPlatforms.Contains("UEFI")) Error(nameof(Strings.IsoBootRecordMissing), _iso, "a UEFI El Torito boot entry (the EFI system image)", "boot from a CD with UEFI");
        if (bios && !(report.SystemArea.Contains("MBR", StringComparison.Ordinal) && report.HasMbrPartitionTable))
            Error(nameof(Strings.IsoBootRecordMissing), _iso, "an isohybrid MBR", "boot from a USB stick with BIOS");
        // the SDK makes the GPT with the isohybrid MBR (-isohybrid-gpt-basdat needs -isohybrid-mbr): an
        // architecture without BIOS boot (arm64, armhf) gets no partition table yet, so it is not checked there
        if (uefi && bios && !report.HasGpt && !report.SystemArea.Contains("GPT", StringComparison.Ordinal))
            Error(nameof(Strings.IsoBootRecordMissing), _iso, "a GPT with the EFI system partition", "boot from a USB stick with UEFI");
    }

    /// <summary>live/filesystem.squashfs, or the modules live/filesystem.module lists (bottom first), as live-boot finds them.</summary>
    private List<IsoFile> RootFilesystemModules(IsoReport report)
    {
        if (report.Files.TryGetValue("/live/" + Squash.ModuleList, out var list))
        {
            var names = Encoding.UTF8.GetString(ReadIsoBytes(list)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var modules = new List<IsoFile>();
            foreach (var name in names)
            {
                if (report.Files.TryGetValue("/live/" + name, out var module)) modules.Add(module);
                else Error(nameof(Strings.NoRootFilesystemInIso), _iso, $"live/{Squash.ModuleList} lists {name}, which is not in live/");
            }
            if (modules.Count == 0 && names.Length == 0) Error(nameof(Strings.NoRootFilesystemInIso), _iso, $"live/{Squash.ModuleList} is empty");
            return modules.Count == names.Length ? modules : [];
        }
        if (report.Files.TryGetValue("/live/filesystem.squashfs", out var squashfs)) return [squashfs];
        Error(nameof(Strings.NoRootFilesystemInIso), _iso, $"live/ has neither filesystem.squashfs nor {Squash.ModuleList}");
        return [];
    }

    private byte[] ReadIsoBytes(IsoFile file)
    {
        using var stream = File.OpenRead(_iso);
        stream.Seek(file.Offset, SeekOrigin.Begin);
        var buffer = new byte[Math.Min(file.Size, 1024 * 1024)];
        stream.ReadExactly(buffer);
        return buffer;
    }

    // ---- the squashfs ---------------------------------------------------------------------------

    private bool CheckSuperblock(IsoFile module)
    {
        var run = Capture("unsquashfs", ["-s", "-o", module.Offset.ToString(), _iso]);
        var text = run.Output + run.Error;
        if (run.ExitCode != 0 || !text.Contains("Found a valid SQUASHFS", StringComparison.Ordinal))
        {
            Error(nameof(Strings.SquashfsBroken), module.Path, _iso, Tail(text));
            return false;
        }
        if (Regex.Match(text, @"Filesystem size (\d+) bytes") is { Success: true } size && long.Parse(size.Groups[1].Value) > module.Size)
        {
            Error(nameof(Strings.SquashfsBroken), module.Path, _iso, $"the superblock says {size.Groups[1].Value} bytes, the file has {module.Size}: it is truncated");
            return false;
        }
        var compressor = Regex.Match(text, @"^Compression (\S+)", RegexOptions.Multiline) is { Success: true } c ? c.Groups[1].Value : "";
        if (Compression.Length > 0 && !string.Equals(compressor, Compression, StringComparison.OrdinalIgnoreCase))
            Error(nameof(Strings.SquashfsCompressorMismatch), module.Path, compressor, Compression);
        _compressor = compressor;
        return true;
    }

    private string _compressor = "";

    private string List(IsoFile module)
    {
        var run = Capture("unsquashfs", ["-lln", "-d", "", "-o", module.Offset.ToString(), _iso]);
        if (run.ExitCode != 0) throw new LiveImageException(nameof(Strings.CannotInspectImage), _iso, $"unsquashfs -lln of {module.Path}, exit code {run.ExitCode}: {Tail(run.Error)}");
        return run.Output;
    }

    /// <summary>A regular file's content, read from the module that provides it; null if it cannot be read.</summary>
    private string? Cat(SquashfsEntry entry)
    {
        var module = _modules[entry.Module];
        var run = Capture("unsquashfs", ["-no-wildcards", "-cat", "-o", module.Offset.ToString(), _iso, entry.Path]);
        return run.ExitCode == 0 ? run.Output : null;
    }

    private void CheckInit(SquashfsTree tree)
    {
        var init = tree.Resolve("/sbin/init");
        if (init is null || !init.IsFile || !init.IsExecutable)
        {
            var link = tree.Get("/sbin/init") ?? tree.Get("/usr/sbin/init");
            Error(nameof(Strings.NoInit), link?.LinkTarget is { } target ? $"a symlink to {target}, which is missing" : "missing");
        }
    }

    /// <summary>The kernel shipped in live/ (the /boot/vmlinuz-* of the same size, else the newest) must have its modules.</summary>
    private string? CheckKernel(SquashfsTree tree, IsoReport report)
    {
        var distribution = KnownDistributions.Get(Distribution);
        var image = distribution.Kernel.Image;
        var kernels = tree.Below("/boot")
            .Where(e => Path.GetFileName(e.Path).StartsWith(image, StringComparison.Ordinal) && e.Path.Count(c => c == '/') == 2)
            .Select(e => (Version: Path.GetFileName(e.Path)[image.Length..], File: tree.Resolve(e.Path)))
            .Where(k => k.File is { IsFile: true })
            .ToList();
        if (kernels.Count == 0)
        {
            Error(nameof(Strings.NoKernel), "/boot", DebianArchitecture.Find(Architecture) is { } arch ? distribution.KernelPackage(arch) : "linux-image-" + Architecture);
            return null;
        }
        var shippedSize = report.Files.TryGetValue("/live/vmlinuz", out var shipped) ? shipped.Size : -1;
        var version = kernels.Where(k => k.File!.Size == shippedSize).Select(k => k.Version).FirstOrDefault()
            ?? kernels.Select(k => k.Version).OrderBy(v => v, KernelVersionComparer.Instance).Last();
        var modules = tree.Resolve("/lib/modules/" + version);
        if (modules is not { IsDirectory: true } || tree.Resolve($"/lib/modules/{version}/modules.dep") is null)
            Error(nameof(Strings.NoKernelModules), version, $"/lib/modules/{version}");
        return version;
    }

    private void CheckKernelReadsSquashfs(SquashfsTree tree, string version)
    {
        if (!KernelOption.TryGetValue(_compressor, out var option)) return;
        if (tree.Resolve($"/boot/config-{version}") is not { IsFile: true } config || Cat(config) is not { } text) return;
        if (!Regex.IsMatch(text, $"^{option}=y", RegexOptions.Multiline))
            Error(nameof(Strings.KernelCannotReadSquashfs), version, _compressor, option);
    }

    // ---- the state the image ships in -----------------------------------------------------------

    private const long UninitializedMachineIdSize = 14;

    private void CheckShippingState(SquashfsTree tree)
    {
        if (tree.Resolve("/usr/sbin/policy-rc.d") is not null) Error(nameof(Strings.PolicyRcdInImage));

        CheckApt(tree);

        // the finalize stage writes "uninitialized\n" (every boot a first boot); older images have an empty file
        if (tree.Resolve("/etc/machine-id") is { IsFile: true, Size: > 0 and not UninitializedMachineIdSize } machineId)
            Warning(nameof(Strings.MachineIdNotEmpty), machineId.Size);

        var hostKeys = tree.Below("/etc/ssh").Where(e => Path.GetFileName(e.Path).StartsWith("ssh_host_", StringComparison.Ordinal)).Select(e => e.Path).ToList();
        if (hostKeys.Count > 0) Error(nameof(Strings.SshHostKeysInImage), string.Join(", ", hostKeys));

        if (LockRootPassword && tree.Resolve("/etc/shadow") is { IsFile: true } shadow && Cat(shadow) is { } text)
        {
            var root = text.Split('\n').FirstOrDefault(l => l.StartsWith("root:", StringComparison.Ordinal));
            var password = root?.Split(':') is { Length: > 1 } fields ? fields[1] : null;
            // usermod --lock prefixes '!'; '*' (or '!*') means no password at all; empty means login without one
            if (password is not null && !(password.StartsWith('!') || password.StartsWith('*')))
                Error(nameof(Strings.RootNotLocked), password.Length == 0 ? "has an empty password (login without one)" : "has a usable password");
        }
    }

    private void CheckApt(SquashfsTree tree)
    {
        var buildMirror = BuildMirror.Trim().TrimEnd('/');
        var checkMirror = buildMirror.Length > 0 && !string.Equals(buildMirror, ImageMirror.Trim().TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
        foreach (var entry in tree.Below("/etc/apt").Where(e => e.IsFile && IsAptText(e.Path)))
        {
            if (Cat(entry) is not { } text) continue;
            var isConf = entry.Path == "/etc/apt/apt.conf" || entry.Path.StartsWith("/etc/apt/apt.conf.d/", StringComparison.Ordinal);
            var lineNumber = 0;
            foreach (var line in text.Split('\n'))
            {
                lineNumber++;
                var content = line.Trim();
                if (content.StartsWith('#') || content.StartsWith("//", StringComparison.Ordinal)) continue;
                if (checkMirror && content.Contains(buildMirror, StringComparison.OrdinalIgnoreCase))
                    Warning(nameof(Strings.BuildMirrorInImage), buildMirror, entry.Path, lineNumber);
                if (isConf && ProxySetting().Match(content) is { Success: true } proxy && !IsNoProxy(proxy.Groups["value"].Value))
                    Warning(nameof(Strings.ProxyInImage), entry.Path, lineNumber, content);
            }
        }
    }

    private static bool IsAptText(string path) =>
        !path.StartsWith("/etc/apt/trusted.gpg.d/", StringComparison.Ordinal) && !path.StartsWith("/etc/apt/keyrings/", StringComparison.Ordinal)
        && !path.EndsWith(".gpg", StringComparison.Ordinal) && !path.EndsWith(".asc", StringComparison.Ordinal) && !path.EndsWith(".pgp", StringComparison.Ordinal)
        && !path.StartsWith("/etc/apt/auth.conf", StringComparison.Ordinal);

    private static bool IsNoProxy(string value) => value.Length == 0 || value.Equals("DIRECT", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase);

    /// <summary>Acquire::http::Proxy "…"; (also https/ftp, per host, or the nested form's Proxy "…";).</summary>
    [GeneratedRegex(@"(?i)(acquire::[a-z]+(::[^\s""]+)?::proxy|^\s*proxy)\s*""(?<value>[^""]*)""")]
    private static partial Regex ProxySetting();

    // ---- running the inspectors -----------------------------------------------------------------

    /// <summary>Runs a read-only inspector and keeps its output in memory: only the command line and exit code are logged.</summary>
    private CapturedOutput Capture(string program, IReadOnlyList<string> arguments) =>
        CreateRunner().Capture(new ToolCommand(program, arguments) { LogPath = LogFile.Length > 0 ? LogFile : null });

    private static string Tail(string text) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(ProcessRunner.TailLines));
}
