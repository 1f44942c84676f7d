using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using LiveImage.Tasks.StageCache;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Squashes the image with mksquashfs, either as one filesystem.squashfs of the merged view of
/// all layers, or (<see cref="Modules"/>) as one squashfs per layer stacked by live-boot through
/// live/filesystem.module, so that a layer that did not change keeps its squashfs ("modular
/// debian"). mksquashfs can exit 0 and still leave a few KiB of junk, which
/// would not boot: a root filesystem under 1 MiB is an error. An image built on a base image
/// (<see cref="ModuleName"/>) squashes only what it changed against its base into a module of its
/// own and stacks it on the base's modules.
/// </summary>
public sealed class Squash : StageTask
{
    public const long MinimumSize = 1024 * 1024;
    public const long Fat32Limit = 4L * 1024 * 1024 * 1024;
    public const string ModuleList = "filesystem.module";

    /// <summary>Layer directories, bottom first.</summary>
    [Required] public ITaskItem[] Layers { get; set; } = [];
    [Required] public string ScratchDirectory { get; set; } = "";
    /// <summary>The directory live-boot reads: live/ of the ISO tree.</summary>
    [Required] public string LiveDirectory { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public override string Architecture { get; set; } = "";
    public string Compression { get; set; } = "zstd";
    /// <summary>Compressor options, e.g. "-Xcompression-level 19"; empty for the compressor's default.</summary>
    public string CompressionOptions { get; set; } = "";
    public bool Modules { get; set; }
    /// <summary>Where the kernel extraction's output goes; empty: the kernel is not copied to <see cref="LiveDirectory"/> first.</summary>
    public string KernelLogFile { get; set; } = "";
    public string KernelPackage { get; set; } = "";
    /// <summary>Copy all the kernel's device trees (/usr/lib/linux-image-&lt;version&gt;/) to <see cref="DtbDirectory"/>.</summary>
    public bool IncludeDtb { get; set; }
    /// <summary>One device tree, relative to the kernel's device tree directory, copied to <see cref="DtbDirectory"/>.</summary>
    public string Dtb { get; set; } = "";
    /// <summary>The medium's /dtb directory; emptied when neither IncludeDtb nor Dtb asks for device trees.</summary>
    public string DtbDirectory { get; set; } = "";

    /// <summary>An image built on a base image: the base's layers, bottom first (they begin <see cref="Layers"/>).</summary>
    public ITaskItem[] BaseLayers { get; set; } = [];
    /// <summary>The base's modules, bottom first, each linked into live/ under its ModuleName metadata.</summary>
    public ITaskItem[] BaseModules { get; set; } = [];
    /// <summary>This image's own module in live/ (e.g. base-essential.squashfs); empty for an image with no base.</summary>
    public string ModuleName { get; set; } = "";
    /// <summary>The level holds only configuration (RebuildWhenBaseChanges=false): its changes must leave the package database alone.</summary>
    public bool ConfigurationOnly { get; set; }
    /// <summary>The image's SOURCE_DATE_EPOCH: the squashfs's creation time, and the clamp of every newer file time; empty: neither.</summary>
    public string SourceDateEpoch { get; set; } = "";

    /// <summary>Overridable for tests: the mksquashfs program (a stub that writes a few KiB reaches LIVE4001).</summary>
    internal string Mksquashfs { get; set; } = "mksquashfs";

    /// <summary>The stage's product is its output: the stage writes it itself.</summary>
    private protected override bool WritesStamp => false;

    /// <summary>
    /// The merged squashfs (with the kernel and initrd beside it) is cached as the stage's files; device
    /// trees are not. Modules are cached one by one (<see cref="ModuleKey"/>), the kernel extracted anew.
    /// </summary>
    private protected override string? LogicVersion => ModuleName.Length == 0 && !Modules && !IncludeDtb && Dtb.Length == 0 ? "1" : null;

    /// <summary>The version of what the stage makes of a layer (or a level's changes) as a module, part of the module's key.</summary>
    private const string ModuleLogicVersion = "1";

    /// <summary>A module's file in its stage cache entry.</summary>
    private const string CachedModule = "module.squashfs";

    private static readonly string[] CachedFiles = ["filesystem.squashfs", "vmlinuz", "initrd.img"];

    private protected override bool Restore(string entry)
    {
        var live = Path.GetFullPath(LiveDirectory);
        Directory.CreateDirectory(live);
        RemoveSquashfsExcept(live, []);
        File.Delete(Path.Combine(live, ModuleList));
        var missing = CachedFiles.FirstOrDefault(f => !File.Exists(Path.Combine(entry, f)));
        if (missing is not null)
        {
            Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheRestoreFailed), StageName, Architecture, entry, $"it has no {missing}");
            new LocalStageCache(Path.GetDirectoryName(entry)!).Remove(entry);
            return false;
        }
        // the squashfs last: it is the stage's output
        foreach (var file in Enumerable.Reverse(CachedFiles)) CopyFromEntry(Path.Combine(entry, file), Path.Combine(live, file));
        return true;
    }

    /// <summary>Copies a cached file into place under a temporary name, so that only a whole one may look up to date.</summary>
    private static void CopyFromEntry(string cached, string target)
    {
        File.Copy(cached, target + ".tmp", overwrite: true);
        // new, as a squash that ran would write it: the copy keeps the time it was stored at
        File.SetLastWriteTimeUtc(target + ".tmp", DateTime.UtcNow);
        File.Move(target + ".tmp", target, overwrite: true);
    }

    /// <summary>
    /// The stage cache key of a module squashed from the view of <paramref name="layers"/> (a layer's own
    /// module: that layer alone, whose key chains the ones below it): their keys and how the stage squashes.
    /// Null when the cache is off or a layer has no key (an opted-out hook, a layer from an older SDK).
    /// </summary>
    private string? ModuleKey(string kind, IEnumerable<string> layers)
    {
        if (Cache is null) return null;
        var keys = layers.Select(RootfsTask.ReadLayerCacheKey).ToList();
        if (keys.Count == 0 || keys.Any(k => k is null)) return null;
        return StageKey.Chain($"squash {kind} {ModuleLogicVersion}", keys.Select(k => "layer " + k).Concat([
            $"compression {Compression} {CompressionOptions}",
            $"source-date-epoch {SourceDateEpoch}",
            $"configuration-only {ConfigurationOnly}",
            // without root, opaque directories become whiteouts in the module (OpaqueWhiteouts)
            $"rootless {UserNamespace.Active}",
        ]));
    }

    /// <summary>Restores the module <paramref name="name"/> from the stage cache when it has <paramref name="key"/>, saying so.</summary>
    private bool RestoreModule(string? key, string output, string name)
    {
        var what = $"squash {name}";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (key is null || Cache is not { } cache || FindEntry(cache, key, what, out var source) is not { } entry) return false;
        var cached = Path.Combine(entry, CachedModule);
        if (!File.Exists(cached))
        {
            Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheRestoreFailed), what, Architecture, entry, $"it has no {CachedModule}");
            cache.Remove(entry);
            return false;
        }
        CopyFromEntry(cached, output);
        Log.LogMessage(MessageImportance.High, $"squash [{Architecture}]: {name} restored from the stage cache{source}, key {StageKey.Short(key)}, {clock.Elapsed.TotalSeconds:0.0} s");
        Publish(cache, key, what);
        return true;
    }

    private void StoreModule(string? key, string output, string name)
    {
        if (key is null || Cache is not { } cache) return;
        StoreEntry(cache, key, $"squash {name}", entry => File.Copy(output, Path.Combine(entry, CachedModule)));
        Publish(cache, key, $"squash {name}");
    }

    private protected override void Store(LocalStageCache cache, string key, IReadOnlyList<string> outputs) =>
        StoreEntry(cache, key, StageName, entry =>
        {
            foreach (var file in CachedFiles) File.Copy(Path.Combine(LiveDirectory, file), Path.Combine(entry, file));
        });

    private protected override void ExecuteStage()
    {
        // the boot loaders' kernel and initrd first, from the same read-only view of the layers
        if (KernelLogFile.Length > 0)
            new KernelExtraction(Layers, ScratchDirectory, LiveDirectory, KernelLogFile, KernelPackage, IncludeDtb, Dtb, DtbDirectory, Distro.Kernel).Run(CreateRunner());
        High(nameof(Strings.StageStarting), "squash", Architecture, Modules ? $"mksquashfs ({Compression}), one module per layer" : $"mksquashfs ({Compression})");
        var started = DateTime.UtcNow;
        var live = Path.GetFullPath(LiveDirectory);
        Directory.CreateDirectory(live);
        if (File.Exists(LogFile)) File.Delete(LogFile);
        if (ModuleName.Length > 0) SquashLevel(live);
        else if (Modules) SquashModules(live);
        else SquashMerged(live);
        High(nameof(Strings.StageFinished), "squash", Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private void SquashMerged(string live)
    {
        RemoveSquashfsExcept(live, ["filesystem.squashfs"]);
        File.Delete(Path.Combine(live, ModuleList));
        var ns = RootfsNamespace.ReadOnlyView(Layers, ScratchDirectory);
        var output = Path.Combine(live, "filesystem.squashfs");
        MakeSquashfs(output, partial => ns.OnHost([Mksquashfs, .. MksquashfsArguments(ns.MergedDirectory, partial)], LogFile, MksquashfsEnvironment()), MinimumSize);
    }

    private void SquashModules(string live)
    {
        var names = Layers.Select(l => Path.GetFileName(l.GetMetadata("FullPath").TrimEnd('/')) + ".squashfs").ToList();
        RemoveSquashfsExcept(live, names);
        var generations = Path.Combine(Path.GetFullPath(ScratchDirectory), "modules");
        Directory.CreateDirectory(generations);
        for (var i = 0; i < Layers.Length; i++)
        {
            var layer = Layers[i].GetMetadata("FullPath");
            var output = Path.Combine(live, names[i]);
            var generationFile = Path.Combine(generations, names[i] + ".generation");
            var key = RootfsStageTask.LayerKey(layer);
            var generation = File.Exists(key) ? File.ReadAllText(key) : Guid.NewGuid().ToString();
            if (File.Exists(output) && File.Exists(generationFile) && File.ReadAllText(generationFile) == generation)
            {
                Log.LogMessage(MessageImportance.Normal, $"squash [{Architecture}]: {names[i]} unchanged, kept");
                continue;
            }
            File.Delete(generationFile);
            var moduleKey = ModuleKey("layer", [layer]);
            if (!RestoreModule(moduleKey, output, names[i]))
            {
                // a layer is squashed as it is on disk: overlayfs whiteouts and opaque directories stay, and live-boot's overlay honours them
                var opaque = OpaqueWhiteouts(layer, Layers.Take(i).Select(l => l.GetMetadata("FullPath")), generations, names[i]);
                MakeSquashfs(output, partial => UserNamespace.Command(Mksquashfs, MksquashfsArguments(layer, partial, opaque)) with { LogPath = LogFile, Environment = MksquashfsEnvironment() }, i == 0 ? MinimumSize : 0);
                StoreModule(moduleKey, output, names[i]);
            }
            File.WriteAllText(generationFile, generation);
        }
        // live-boot stacks the modules in this order, the first at the bottom
        File.WriteAllLines(Path.Combine(live, ModuleList), names);
    }

    /// <summary>
    /// The base's modules linked in (the same file in every image built on the base), then this image's
    /// changes against its base as a module: rsync makes the base's view (overlayfs, writing into an
    /// empty upper directory) equal to this image's, so the upper directory ends up holding exactly the
    /// new and changed files, and overlayfs' own whiteouts and opaque directories for what was removed.
    /// </summary>
    private void SquashLevel(string live)
    {
        var names = BaseModules.Select(m => m.GetMetadata("ModuleName")).Append(ModuleName).ToList();
        RemoveSquashfsExcept(live, names);
        foreach (var baseModule in BaseModules)
            Netboot.FileLinks.LinkOrCopy(baseModule.GetMetadata("FullPath"), Path.Combine(live, baseModule.GetMetadata("ModuleName")));
        // the changes depend on the base's view and this image's whole view: every base layer's key and this image's top one
        var moduleKey = ModuleKey("level", BaseLayers.Append(Layers[^1]).Select(l => l.GetMetadata("FullPath")));
        var module = Path.Combine(live, ModuleName);
        if (!RestoreModule(moduleKey, module, ModuleName))
        {
            SquashLevelChanges(module);
            StoreModule(moduleKey, module, ModuleName);
        }
        // live-boot stacks the modules in this order, the first at the bottom
        File.WriteAllLines(Path.Combine(live, ModuleList), names);
    }

    /// <summary>This image's changes against its base, squashed into <paramref name="module"/>.</summary>
    private void SquashLevelChanges(string module)
    {
        var scratch = Path.GetFullPath(ScratchDirectory);
        var changes = Path.Combine(scratch, "level-changes");
        foreach (var dir in new[] { changes, Path.Combine(scratch, "level-work"), Path.Combine(scratch, "level-view") })
        {
            if (Directory.Exists(dir)) CreateRunner().Run(UserNamespace.Command("rm", ["-rf", "--one-file-system", dir]) with { LogPath = LogFile });
            Directory.CreateDirectory(dir);
        }
        var env = new Dictionary<string, string>
        {
            // overlayfs lists lower directories top first
            ["LIVEIMAGE_LEVEL_BASE"] = string.Join(':', BaseLayers.Select(l => l.GetMetadata("FullPath")).Reverse()),
            ["LIVEIMAGE_LEVEL_CHANGES"] = changes,
            ["LIVEIMAGE_LEVEL_WORK"] = Path.Combine(scratch, "level-work"),
            ["LIVEIMAGE_LEVEL_VIEW"] = Path.Combine(scratch, "level-view"),
            // as the namespace's own overlay (which takes its options out of the command's environment)
            ["LIVEIMAGE_LEVEL_OVERLAY_OPTIONS"] = UserNamespace.Active ? "userxattr," : "",
        };
        var ns = RootfsNamespace.ReadOnlyView(Layers, ScratchDirectory);
        var diff = CreateRunner().Run(ns.OnHost(["/bin/sh", "-c", LevelChangesScript], LogFile, env));
        if (diff.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), "rsync (this image's changes against its base)", diff.ExitCode, "squash", diff.TailText, diff.LogPath);
        if (ConfigurationOnly && PackageDatabaseChanges(changes) is { Count: > 0 } touched)
            throw new LiveImageException(nameof(Strings.ConfigurationLevelChangedPackages), string.Join(", ", touched.Take(10)) + (touched.Count > 10 ? $" and {touched.Count - 10} more" : ""));
        var opaque = OpaqueWhiteouts(changes, BaseLayers.Select(l => l.GetMetadata("FullPath")), scratch, ModuleName);
        MakeSquashfs(module, partial => UserNamespace.Command(Mksquashfs, MksquashfsArguments(changes, partial, opaque)) with { LogPath = LogFile, Environment = MksquashfsEnvironment() }, 0);
    }

    /// <summary>What a level changed of the package database (dpkg's and apt's state), as image paths.</summary>
    internal static IReadOnlyList<string> PackageDatabaseChanges(string changes) =>
        new[] { "var/lib/dpkg", "var/lib/apt" }
            .Select(d => Path.Combine(changes, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFileSystemEntries(d, "*", SearchOption.AllDirectories))
            // lock files hold no state: apt and dpkg leave them wherever they looked
            .Where(p => !Directory.Exists(p) && Path.GetFileName(p) is not ("lock" or "lock-frontend" or "Lock"))
            .Select(p => "/" + Path.GetRelativePath(changes, p))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Runs in the namespace whose $LIVEIMAGE_ROOT is this image's whole view; checksums, not times, decide
    /// what changed. Without root the overlay needs userxattr (its opaque marks become user.overlay.*,
    /// turned into whiteouts for the module like any layer's).
    /// </summary>
    private const string LevelChangesScript = """
        set -eu
        mount -t overlay overlay -o "${LIVEIMAGE_LEVEL_OVERLAY_OPTIONS}lowerdir=$LIVEIMAGE_LEVEL_BASE,upperdir=$LIVEIMAGE_LEVEL_CHANGES,workdir=$LIVEIMAGE_LEVEL_WORK" "$LIVEIMAGE_LEVEL_VIEW"
        rsync -aHAXc --numeric-ids --delete --exclude='/proc/*' --exclude='/sys/*' --exclude='/dev/*' --exclude='/run/*' --exclude='/tmp/*' \
            "$LIVEIMAGE_ROOT/" "$LIVEIMAGE_LEVEL_VIEW/"
        umount "$LIVEIMAGE_LEVEL_VIEW"
        echo "this image's changes against its base: $(du -sh "$LIVEIMAGE_LEVEL_CHANGES" | cut -f1)"
        """;

    /// <summary>mksquashfs (4.4 and later) takes SOURCE_DATE_EPOCH as the creation time and clamps newer file times to it.</summary>
    private Dictionary<string, string> MksquashfsEnvironment() =>
        SourceDateEpoch.Length > 0 ? new() { ["SOURCE_DATE_EPOCH"] = SourceDateEpoch } : [];

    /// <summary>
    /// mksquashfs arguments that keep a module's opaque directories opaque at boot in a build without
    /// root (<see cref="OpaqueDirectories"/>); none in a root build, whose overlay marks them as the boot's does.
    /// </summary>
    private List<string> OpaqueWhiteouts(string layer, IEnumerable<string> lowerLayers, string scratch, string module)
    {
        if (!UserNamespace.Active) return [];
        var whiteouts = OpaqueDirectories.Whiteouts(layer, lowerLayers);
        if (whiteouts.Count == 0) return [];
        var pseudo = Path.Combine(scratch, module + ".whiteouts");
        File.WriteAllText(pseudo, OpaqueDirectories.PseudoFile(whiteouts, SourceDateEpoch));
        Log.LogMessage(MessageImportance.Normal, $"squash [{Architecture}]: {module}: {whiteouts.Count} whiteouts keep its opaque directories opaque at boot ({pseudo})");
        return ["-pf", pseudo];
    }

    private List<string> MksquashfsArguments(string source, string output, IEnumerable<string>? options = null)
    {
        // its progress bar is read (SquashfsProgress): a line per tenth of the files, the redraws never logged
        var args = new List<string> { source, output, "-noappend", "-comp", Compression };
        args.AddRange(CompressionOptions.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // before -e: mksquashfs reads every argument after it as an exclude
        args.AddRange(options ?? []);
        // the contents of these are made at boot; their mount points stay
        args.AddRange(["-wildcards", "-e", "proc/*", "sys/*", "dev/*", "run/*", "tmp/*"]);
        return args;
    }

    /// <summary>Runs mksquashfs into a temporary name, so an interrupted run never leaves a file that looks up to date.</summary>
    private void MakeSquashfs(string output, Func<string, ToolCommand> command, long minimumSize)
    {
        var partial = output + ".tmp";
        File.Delete(partial);
        var result = CreateRunner().Run(command(partial) with { Progress = new SquashfsProgress($"{StageName} [{Architecture}]") });
        if (result.ExitCode != 0)
        {
            File.Delete(partial);
            if (DiskSpace.IsFull(result.Tail))
                throw new LiveImageException(nameof(Strings.DiskFull), "squash", "mksquashfs", output, DiskSpace.FreeMiB(Path.GetDirectoryName(output)!), result.LogPath);
            throw new LiveImageException(nameof(Strings.ToolFailed), "mksquashfs", result.ExitCode, "squash", result.TailText, result.LogPath);
        }
        var size = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (size < Math.Max(minimumSize, 1))
        {
            var free = new DriveInfo(Path.GetDirectoryName(output)!).AvailableFreeSpace / (1024 * 1024);
            File.Delete(partial);
            throw new LiveImageException(nameof(Strings.SquashTooSmall), output, size, free);
        }
        if (size > Fat32Limit) Log.LogWarningWithCodeFromResources(nameof(Strings.SquashTooLarge), output, size / (1024 * 1024));
        File.Move(partial, output, overwrite: true);
        Log.LogMessage(MessageImportance.High, $"squash [{Architecture}]: {output} {size / (1024 * 1024)} MiB");
    }

    private static void RemoveSquashfsExcept(string live, IReadOnlyCollection<string> keep)
    {
        foreach (var file in Directory.GetFiles(live, "*.squashfs*"))
            if (!keep.Contains(Path.GetFileName(file))) File.Delete(file);
    }
}
