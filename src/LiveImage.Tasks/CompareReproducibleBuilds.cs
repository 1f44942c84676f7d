using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Reproducibility;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// -t:VerifyReproducible's comparison of two builds of the same project: the ISO, the files of its
/// live/ folder (squashfs, kernel, initrd) and the netboot folder, byte for byte. When they differ,
/// the files that differ inside the squashfs and the ISO are named (their listings, with owners, modes
/// and times, and their extracted contents compared), diffoscope's report is added when it is
/// installed, and the build fails with LIVE1085.
/// </summary>
public sealed class CompareReproducibleBuilds : LiveImageTask
{
    [Required] public string FirstIso { get; set; } = "";
    [Required] public string SecondIso { get; set; } = "";
    [Required] public string FirstLiveDirectory { get; set; } = "";
    [Required] public string SecondLiveDirectory { get; set; } = "";
    /// <summary>Empty when the build writes no netboot folder.</summary>
    public string FirstNetbootDirectory { get; set; } = "";
    public string SecondNetbootDirectory { get; set; } = "";
    /// <summary>The SPDX documents; empty when none is written.</summary>
    public string FirstSbom { get; set; } = "";
    public string SecondSbom { get; set; } = "";
    [Required] public string ScratchDirectory { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public string Architecture { get; set; } = "";

    /// <summary>How many differing paths inside an image the message names; the log has them all.</summary>
    internal const int NamedPaths = 15;

    protected override void ExecuteCore()
    {
        if (File.Exists(LogFile)) File.Delete(LogFile);
        var pairs = new List<(string Label, string First, string Second)> { ("ISO", FirstIso, SecondIso) };
        pairs.AddRange(FilePairs("live/", FirstLiveDirectory, SecondLiveDirectory));
        if (FirstSbom.Length > 0) pairs.Add(("SBOM", FirstSbom, SecondSbom));
        if (FirstNetbootDirectory.Length > 0) pairs.AddRange(FilePairs("netboot/", FirstNetbootDirectory, SecondNetbootDirectory));
        var differing = pairs.Where(p => !File.Exists(p.First) || !File.Exists(p.Second) || TreeDifference.Sha256(p.First) != TreeDifference.Sha256(p.Second)).ToList();
        if (differing.Count == 0)
        {
            High(nameof(Strings.ReproducibleBuilds), Architecture, TreeDifference.Sha256(FirstIso), pairs.Count - 1);
            return;
        }

        var scratch = Path.GetFullPath(ScratchDirectory);
        var inside = new List<string>();
        try
        {
            foreach (var (label, first, second) in differing.Where(p => p.Label.EndsWith(".squashfs") && File.Exists(p.First) && File.Exists(p.Second)))
                inside.AddRange(Named(label, SquashfsPaths(first, second, Path.Combine(scratch, Path.GetFileName(first)))));
            if (differing.Any(p => p.Label == "ISO") && File.Exists(FirstIso) && File.Exists(SecondIso))
                inside.AddRange(Named("ISO", IsoPaths(FirstIso, SecondIso, Path.Combine(scratch, "iso"))));
        }
        finally
        {
            Remove(scratch);
        }
        var pair = differing.FirstOrDefault(p => File.Exists(p.First) && File.Exists(p.Second));
        var report = pair.First is null ? null : Diffoscope(pair.First, pair.Second);
        throw new LiveImageException(nameof(Strings.NotReproducible), Architecture, string.Join(", ", differing.Select(d => d.Label)),
            inside.Count > 0 ? string.Join(", ", inside) : "none (the contents are equal: the difference is in the file systems' own records)",
            report ?? Path.GetFullPath(LogFile));
    }

    /// <summary>Every file of a folder, both builds', by relative name.</summary>
    private static IEnumerable<(string, string, string)> FilePairs(string label, string first, string second)
    {
        static IEnumerable<string> Files(string dir) => Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f))
            : [];
        return Files(first).Union(Files(second)).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(f => (label + f, Path.Combine(first, f), Path.Combine(second, f)));
    }

    private IEnumerable<string> Named(string label, IReadOnlyList<string> paths)
    {
        File.AppendAllLines(LogFile, [$"# differs inside {label}: {paths.Count} paths", .. paths]);
        if (paths.Count == 0) return [];
        var named = paths.Take(NamedPaths).ToList();
        if (paths.Count > NamedPaths) named.Add($"and {paths.Count - NamedPaths} more");
        return [$"in {label}: {string.Join(" ", named)}"];
    }

    private IReadOnlyList<string> SquashfsPaths(string first, string second, string scratch)
    {
        var listings = new[] { first, second }.Select(f => TreeDifference.ParseUnsquashfsListing(Capture("unsquashfs", ["-lln", f]))).ToArray();
        var trees = new[] { Path.Combine(scratch, "1"), Path.Combine(scratch, "2") };
        Remove(scratch);
        Directory.CreateDirectory(scratch);
        Run("unsquashfs", ["-no-progress", "-d", trees[0], first]);
        Run("unsquashfs", ["-no-progress", "-d", trees[1], second]);
        return TreeDifference.Paths(listings[0], listings[1], trees[0], trees[1]);
    }

    private IReadOnlyList<string> IsoPaths(string first, string second, string scratch)
    {
        var listings = new[] { first, second }.Select(f => TreeDifference.ParseXorrisoListing(Capture("xorriso", ["-indev", f, "-find", "/", "-exec", "lsdl", "--"]))).ToArray();
        var trees = new[] { Path.Combine(scratch, "1"), Path.Combine(scratch, "2") };
        Remove(scratch);
        Directory.CreateDirectory(scratch);
        Run("xorriso", ["-osirrox", "on", "-indev", first, "-extract", "/", trees[0]]);
        Run("xorriso", ["-osirrox", "on", "-indev", second, "-extract", "/", trees[1]]);
        return TreeDifference.Paths(listings[0], listings[1], trees[0], trees[1]);
    }

    /// <summary>diffoscope's text report of the first pair that differs, when diffoscope is installed; its path, or null.</summary>
    private string? Diffoscope(string first, string second)
    {
        if (HostTools.Find("diffoscope") is null) return null;
        var report = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(LogFile))!, "reproducible.diffoscope.txt");
        // exit code 1 means "they differ": the report is written either way
        CreateRunner().Run(new ToolCommand("diffoscope", ["--text", report, first, second]) { LogPath = LogFile, Timeout = TimeSpan.FromMinutes(30) });
        return File.Exists(report) ? report : null;
    }

    private string Capture(string tool, IReadOnlyList<string> args)
    {
        var result = CreateRunner().Capture(new ToolCommand(tool, args) { LogPath = LogFile });
        if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), tool, result.ExitCode, "verify-reproducible", result.Error, LogFile);
        return result.Output;
    }

    private void Run(string tool, IReadOnlyList<string> args)
    {
        var result = CreateRunner().Run(new ToolCommand(tool, args) { LogPath = LogFile });
        if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), tool, result.ExitCode, "verify-reproducible", result.TailText, result.LogPath);
    }

    private void Remove(string dir)
    {
        if (Directory.Exists(dir)) CreateRunner().Run(new ToolCommand("rm", ["-rf", "--one-file-system", dir]) { LogPath = LogFile });
    }
}
