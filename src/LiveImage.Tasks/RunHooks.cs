using System.Security.Cryptography;
using System.Text;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Rootfs;
using LiveImage.Tasks.StageCache;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks;

/// <summary>
/// Runs the customisation hooks in file-name order, each into a layer of its own. A hook's
/// layer is kept when nothing at or below it changed (its key chains the stage below, every
/// earlier hook and its own content and metadata), so editing one hook reruns only it and the
/// hooks after it. A hook gets the image root as $1, so it can use the host's tools on the image
/// without entering it, or runs inside the image with RunIn="chroot".
/// </summary>
public sealed class RunHooks : RootfsTask
{
    public string Suite { get; set; } = "";
    // the image's metadata, for the hooks' environment (LIVEIMAGE_NAME, ...), as mkosi gives its scripts
    public string ImageName { get; set; } = "";
    public string ImageVersion { get; set; } = "";
    public string HostName { get; set; } = "";
    public string LiveUser { get; set; } = "";
    public string Configuration { get; set; } = "";
    /// <summary>The project's directory on the host (also for chroot hooks, which cannot see it): LIVEIMAGE_PROJECT_DIR.</summary>
    public string ProjectDirectory { get; set; } = "";
    /// <summary>Hooks from ResolveLiveImageConfiguration (metadata HookName, LayerName, RunIn).</summary>
    public ITaskItem[] Hooks { get; set; } = [];
    /// <summary>The stamp of the stage below; its content identifies that stage's last run.</summary>
    [Required] public string BaseStamp { get; set; } = "";
    [Required] public string LayersDirectory { get; set; } = "";
    [Required] public string LogDirectory { get; set; } = "";
    public string HelpersScript { get; set; } = "";
    /// <summary>The image's SOURCE_DATE_EPOCH, given to every hook so that what it writes can be dated reproducibly; empty: not set.</summary>
    public string SourceDateEpoch { get; set; } = "";

    /// <summary>Each hook's layer is cached on its own; the stage's key stands for all of them.</summary>
    private protected override string? LogicVersion => "1";

    private protected override void ExecuteStage()
    {
        var key = File.Exists(BaseStamp) ? File.ReadAllText(BaseStamp).Trim() : "";
        // what every hook sees beyond its own file: the image's metadata and the helper library
        key = Key(key, ImageEnvironment().Where(e => e.Key != "LIVEIMAGE_PROJECT_DIR").Select(e => $"{e.Key}={e.Value}")
            .Append("helpers:" + (HelpersScript.Length > 0 && File.Exists(HelpersScript) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(HelpersScript))) : "")));
        var cacheKey = HookCacheBase();
        var lower = LowerLayers.Select(l => l.GetMetadata("FullPath")).ToList();
        var rerun = false;
        RemoveStaleLayers();
        IDisposable? emulation = null;
        var emulationOpen = false;
        try
        {
            foreach (var hook in Hooks)
            {
                key = Key(key, hook, ProjectDirectory);
                // a hook that opts out (its result is not a function of its inputs) takes every layer above it out of the cache
                cacheKey = cacheKey is null || hook.GetMetadata("StageCache").Equals("false", StringComparison.OrdinalIgnoreCase) ? null : StageKey.Chain(cacheKey, [Key("", hook, ProjectDirectory)]);
                var layer = Path.Combine(Path.GetFullPath(LayersDirectory), hook.GetMetadata("LayerName"));
                var keyFile = LayerKey(layer);
                rerun |= !(Directory.Exists(layer) && File.Exists(keyFile) && File.ReadAllText(keyFile) == key);
                if (rerun)
                {
                    File.Delete(keyFile);
                    File.Delete(LayerCacheKey(layer));
                    if (!Restore(hook, cacheKey, layer))
                    {
                        if (!emulationOpen)
                        {
                            emulation = OpenEmulation(EmulatedArchitecture, RegisterBinfmt);
                            emulationOpen = true;
                        }
                        Run(hook, lower, layer);
                        if (cacheKey is not null && Cache is { } cache)
                        {
                            StoreLayer(cache, cacheKey, layer, [], HookLog(hook), "hook " + hook.GetMetadata("HookName"));
                            Publish(cache, cacheKey, "hook " + hook.GetMetadata("HookName"));
                        }
                    }
                    File.WriteAllText(keyFile, key);
                    WriteLayerCacheKey(layer, cacheKey);
                }
                else
                {
                    Log.LogMessage(MessageImportance.Normal, $"hooks [{Architecture}]: {hook.GetMetadata("HookName")} unchanged, its layer is reused");
                }
                lower.Add(layer);
            }
        }
        finally
        {
            emulation?.Dispose();
        }
        if (cacheKey is null && Hooks.Length > 0) ContentKey = StageKey.Uncacheable;
    }

    /// <summary>What the hooks' cache keys chain from: the key of the stage below and what every hook sees; null when that stage has none.</summary>
    private string? HookCacheBase()
    {
        var below = StageKey.FileBesideStamp(BaseStamp);
        var belowKey = File.Exists(below) ? File.ReadAllText(below).Trim() : "";
        if (belowKey.Length == 0 || belowKey == StageKey.Uncacheable || ContentKey is null) return null;
        // the hook list itself is left out: each hook chains its own name and content, so adding a hook keeps the keys of the ones before it
        var shared = InputsCache.Length > 0 ? File.ReadAllLines(InputsCache).Where(l => !l.StartsWith("Hook=", StringComparison.Ordinal)) : [];
        return StageKey.Chain(belowKey, shared.Prepend("hook layer " + LogicVersion));
    }

    /// <summary>Restores a hook's layer from the stage cache when it has the hook's key, saying so in the hook's one line.</summary>
    private bool Restore(ITaskItem hook, string? cacheKey, string layer)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var what = "hook " + hook.GetMetadata("HookName");
        if (cacheKey is null || Cache is not { } cache || FindEntry(cache, cacheKey, what, out var source) is not { } entry) return false;
        var log = HookLog(hook);
        if (File.Exists(log)) File.Delete(log);
        if (!RestoreLayer(entry, layer, [], log)) return false;
        Log.LogMessage(MessageImportance.High, $"{what} [{Architecture}]: restored from the stage cache{source}, key {StageKey.Short(cacheKey)}, {clock.Elapsed.TotalSeconds:0.0} s");
        Publish(cache, cacheKey, what);
        return true;
    }

    private string HookLog(ITaskItem hook) => Path.Combine(Path.GetFullPath(LogDirectory), $"hook-{hook.GetMetadata("HookName")}.log");

    private void Run(ITaskItem hook, List<string> lower, string layer)
    {
        var name = hook.GetMetadata("HookName");
        High(nameof(Strings.StageStarting), "hook " + name, Architecture, hook.GetMetadata("RunIn") == "chroot" ? "in the image (chroot)" : "on the host side, $1 = image root");
        var started = DateTime.UtcNow;
        ClearDirectory(layer);
        var ns = Namespace(lower, layer, Path.Combine(Path.GetFullPath(ScratchDirectory), "hooks"));
        var env = Distro.PackageEnvironment();
        foreach (var (k, v) in ImageEnvironment()) env[k] = v;
        env["LIVEIMAGE_HOOK"] = name;
        if (SourceDateEpoch.Length > 0) env["SOURCE_DATE_EPOCH"] = SourceDateEpoch;
        env["LIVEIMAGE_HELPERS"] = HelpersScript;
        var logPath = HookLog(hook);
        if (File.Exists(logPath)) File.Delete(logPath);
        var path = hook.GetMetadata("FullPath");
        var command = hook.GetMetadata("RunIn") == "chroot"
            ? ns.OnHost(["/bin/sh", "-c", InChrootScript, "hook", path, HelpersScript], logPath, env)
            : ns.OnHost([path, ns.MergedDirectory], logPath, env);
        var result = RunInImage(command, "hook " + name);
        if (result.ExitCode != 0)
        {
            // a hook's own failure is its author's to read: no guess about the mirror
            ThrowIfKnownFailure("hook " + name, "hook " + name, layer, result, mirror: false);
            // at the hook's file, which is what the user edits (not the SDK's task)
            throw new LiveImageException(nameof(Strings.HookFailed), name, result.ExitCode, result.TailText, result.LogPath) { Location = new SourceLocation(path) };
        }
        High(nameof(Strings.StageFinished), "hook " + name, Architecture, (DateTime.UtcNow - started).TotalSeconds);
        LogUsage("hook " + name, layer, lower);
    }

    /// <summary>Copies the hook (and the helpers) to the image's /run, a tmpfs that never reaches a layer.</summary>
    private const string InChrootScript = """
        set -e
        cp "$1" "$LIVEIMAGE_ROOT/run/liveimage-hook"
        chmod 755 "$LIVEIMAGE_ROOT/run/liveimage-hook"
        if [ -n "$2" ]; then cp "$2" "$LIVEIMAGE_ROOT/run/liveimage-helpers.sh"; export LIVEIMAGE_HELPERS=/run/liveimage-helpers.sh; fi
        exec chroot "$LIVEIMAGE_ROOT" /run/liveimage-hook /
        """;

    /// <summary>The variables every hook gets besides $1 and LIVEIMAGE_HELPERS (README lists them).</summary>
    internal Dictionary<string, string> ImageEnvironment() => new()
    {
        ["LIVEIMAGE_NAME"] = ImageName,
        ["LIVEIMAGE_VERSION"] = ImageVersion,
        ["LIVEIMAGE_SUITE"] = Suite,
        ["LIVEIMAGE_ARCHITECTURE"] = Architecture,
        ["LIVEIMAGE_ARCH"] = Architecture, // the older name, kept for existing hooks
        ["LIVEIMAGE_HOSTNAME"] = HostName,
        ["LIVEIMAGE_USER"] = LiveUser,
        ["LIVEIMAGE_CONFIGURATION"] = Configuration,
        ["LIVEIMAGE_PROJECT_DIR"] = ProjectDirectory.Length > 0 ? Path.GetFullPath(ProjectDirectory) : "",
    };

    private static string Key(string below, IEnumerable<string> lines) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines.Prepend(below)))));

    /// <summary>
    /// A hook's key chains the key below it with its name, RunIn, content and the files of its Inputs
    /// (named relative to the project, so a moved project directory is not a change).
    /// </summary>
    internal static string Key(string below, ITaskItem hook, string projectDirectory = "")
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{below}\n{hook.GetMetadata("HookName")}\n{hook.GetMetadata("RunIn")}\n"));
        sha.AppendData(File.ReadAllBytes(hook.GetMetadata("FullPath")));
        foreach (var input in hook.GetMetadata("InputFiles").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = projectDirectory.Length > 0 ? Path.GetRelativePath(Path.GetFullPath(projectDirectory), input) : Path.GetFileName(input);
            sha.AppendData(Encoding.UTF8.GetBytes($"\ninput {name}\n"));
            if (File.Exists(input)) sha.AppendData(File.ReadAllBytes(input));
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Layers of hooks that were removed or renamed would otherwise linger in obj/.</summary>
    private void RemoveStaleLayers()
    {
        if (!Directory.Exists(LayersDirectory)) return;
        var wanted = Hooks.Select(h => h.GetMetadata("LayerName")).ToHashSet();
        foreach (var dir in Directory.GetDirectories(LayersDirectory, "40-hook-*"))
        {
            if (wanted.Contains(Path.GetFileName(dir))) continue;
            UserNamespace.RemoveTree(dir);
            File.Delete(LayerKey(dir));
            File.Delete(LayerCacheKey(dir));
        }
    }
}
