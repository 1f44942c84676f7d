using System.Diagnostics;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Rootfs;
using LiveImage.Tasks.StageCache;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Base of the tasks that are a stage of the build; it owns the stage's bookkeeping the way MSBuild's
/// ToolTask owns its tool's. A stage target is its Inputs/Outputs and this one task: once MSBuild's
/// up-to-date check has decided that the stage runs, the task says why in one line ("runs because …"),
/// deletes the stamp, runs the stage, and only after success writes a new stamp and keeps a copy of
/// the stage's inputs cache (<c>&lt;stage&gt;.inputs.done</c>) for the next explanation. A stage that
/// fails or is interrupted has no stamp, so it runs again.
/// </summary>
public abstract class StageTask : LiveImageTask
{
    /// <summary>The image's Debian architecture.</summary>
    public abstract string Architecture { get; set; }

    /// <summary>The distribution the image is built from (the Distribution property); its work goes through <see cref="Distro"/>.</summary>
    public string Distribution { get; set; } = KnownDistributions.Default;

    /// <summary>Name of the stage for messages.</summary>
    public string StageName { get; set; } = "";

    /// <summary>The stage's current non-file inputs, one "Name=value" per line (WriteStageInputs); empty: no explanation and no copy.</summary>
    public string InputsCache { get; set; } = "";

    /// <summary>The stage's stamp: its target's output; empty for none.</summary>
    public string Stamp { get; set; } = "";

    /// <summary>The stage's input files (the stage below, hooks, files), named when one of them is why it runs.</summary>
    public ITaskItem[] InputFiles { get; set; } = [];

    /// <summary>Whether finished stages are stored in and restored from the stage cache (StageCache property).</summary>
    public bool StageCache { get; set; }

    /// <summary>The local stage cache (StageCacheDirectory property).</summary>
    public string StageCacheDirectory { get; set; } = "";

    /// <summary>The local stage cache's size limit, e.g. 20G (StageCacheSize property).</summary>
    public string StageCacheSize { get; set; } = "";

    /// <summary>An OCI registry holding stage cache entries between machines, http(s)://host[:port]/repository; empty: none.</summary>
    public string StageCacheRegistry { get; set; } = "";

    /// <summary>pull, push or both: whether a missing stage is pulled from <see cref="StageCacheRegistry"/>, and whether a stage the registry lacks is pushed.</summary>
    public string StageCacheRegistryMode { get; set; } = "pull";

    /// <summary>
    /// More of the key, for the bottom stage: the package lock file and the archive's release dates
    /// (the targets and <see cref="KeyExtras"/> give them).
    /// </summary>
    public ITaskItem[] StageKeyFiles { get; set; } = [];

    /// <summary>
    /// The version of this stage's own logic, part of its key: changed whenever the SDK changes what
    /// the stage makes of the same inputs, so that no cache returns a layer the old logic made. Null:
    /// the stage has no key.
    /// </summary>
    private protected virtual string? LogicVersion => null;

    /// <summary>The key this run computed; a stage may make it <see cref="StageKey.Uncacheable"/> while it runs.</summary>
    private protected string? ContentKey { get; set; }

    /// <summary>The inputs cache's content as the key sees it (a stage may leave out a line that differs from build to build).</summary>
    private protected virtual string KeyInputs(string inputsCache) => inputsCache;

    /// <summary>
    /// Lines of the key besides the inputs: what only the stage itself knows; <paramref name="withoutLock"/>:
    /// as the stage had them before the project had a package lock.
    /// </summary>
    private protected virtual IEnumerable<string> KeyExtras(bool withoutLock) => [];

    /// <summary>The line of a stage's inputs that holds the package lock's versions (ReadPackageLock).</summary>
    private const string LockInput = "PackageLock=";

    /// <summary>
    /// With a package lock: the key the stage had in the build that wrote the lock (no lock line, the archive's
    /// release dates). A clean build after it looks there when the lock's own key misses, and takes the entry only
    /// when what it restores holds the lock's versions (<see cref="HoldsLockedVersions"/>).
    /// </summary>
    private string? _keyWithoutLock;

    /// <summary>Whether the restored result holds exactly the lock's versions; only a stage with a lock input answers yes.</summary>
    private protected virtual bool HoldsLockedVersions() => false;

    /// <summary>The stage cache when it is on (and its size valid), else null.</summary>
    private protected LocalStageCache? Cache =>
        StageCache && StageCacheDirectory.Length > 0 ? new LocalStageCache(StageCacheDirectory) : null;

    /// <summary>
    /// Whether <see cref="Stamp"/> is the bookkeeping's own file, deleted before and written after the
    /// stage; not when it is the stage's product (the squashfs, the ISO), which the stage writes itself.
    /// </summary>
    private protected virtual bool WritesStamp => true;

    /// <summary>The distribution's side of the stage's work; LIVE1040 when the name is unknown.</summary>
    private protected IDistribution Distro => KnownDistributions.Get(Distribution);

    /// <summary>The copy of an inputs cache kept at the stage's last success.</summary>
    internal static string LastInputs(string inputsCache) => Path.ChangeExtension(inputsCache, ".done");

    protected sealed override void ExecuteCore()
    {
        var keyFile = LogicVersion is not null && InputsCache.Length > 0 ? StageKey.FileFor(InputsCache) : null;
        if (keyFile is not null)
        {
            File.Delete(keyFile);
            var inputs = File.ReadAllText(InputsCache);
            ContentKey = Key(inputs, withoutLock: false);
            var unlocked = string.Join('\n', inputs.Split('\n').Where(l => !l.StartsWith(LockInput, StringComparison.Ordinal)));
            _keyWithoutLock = unlocked != inputs ? Key(unlocked, withoutLock: true) : null;
        }
        CheckCacheSettings();
        var reason = InputsCache.Length > 0 ? ExplainStage.Reason(InputsCache, LastInputs(InputsCache), Stamp, InputFiles) : null;
        var stamp = WritesStamp && Stamp.Length > 0 ? Stamp : null;
        if (stamp is not null && File.Exists(stamp)) File.Delete(stamp);
        var clock = Stopwatch.StartNew();
        if (ContentKey is not null && Cache is { } cache && RestoreFromCache(cache, out var source))
        {
            Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: restored from the stage cache{source}, key {StageKey.Short(ContentKey)}, {clock.Elapsed.TotalSeconds:0.0} s (out of date because {reason})");
            Publish(cache, ContentKey, StageName);
        }
        else
        {
            if (reason is not null) Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: runs because {reason}");
            ExecuteStage();
            if (Log.HasLoggedErrors) return;
            if (ContentKey is not null and not StageKey.Uncacheable && Cache is { } store)
            {
                Store(store, ContentKey, CachedOutputs());
                Publish(store, ContentKey, StageName);
            }
        }
        if (stamp is not null) File.WriteAllText(stamp, Guid.NewGuid() + "\n");
        if (InputsCache.Length > 0) File.Copy(InputsCache, LastInputs(InputsCache), overwrite: true);
        if (keyFile is not null) File.WriteAllText(keyFile, (ContentKey ?? StageKey.Uncacheable) + "\n");
    }

    private string? Key(string inputs, bool withoutLock) =>
        StageKey.Compute(StageName, LogicVersion!, KeyInputs(inputs), InputFiles.Select(f => f.ItemSpec),
            StageKeyFiles.Select(f => $"key-file {Path.GetFileName(f.ItemSpec)} {(!withoutLock && File.Exists(f.ItemSpec) ? StageKey.FileHash(f.ItemSpec) : "missing")}")
                .Concat(KeyExtras(withoutLock))
                // a layer made without root marks its opaque directories user.overlay.opaque, which a root build's overlay ignores
                .Append($"rootless {UserNamespace.Active}"));

    /// <summary>Restores the stage from its key's entry, else from the entry it had before the package lock when that holds the lock's versions.</summary>
    private bool RestoreFromCache(LocalStageCache cache, out string source)
    {
        if (FindEntry(cache, ContentKey!, StageName, out source) is { } entry && Restore(entry)) return true;
        if (_keyWithoutLock is null || FindEntry(cache, _keyWithoutLock, StageName, out source) is not { } before) return false;
        var lockKey = ContentKey;
        // the key the stages above chain from, and the layer's modules, stays the one they were stored under
        ContentKey = _keyWithoutLock;
        if (Restore(before))
        {
            if (HoldsLockedVersions())
            {
                source += " (its entry from before the package lock, the same versions)";
                return true;
            }
            Log.LogMessage(MessageImportance.Normal, $"{StageName} [{Architecture}]: the stage cache's entry from before the package lock ({StageKey.Short(_keyWithoutLock)}) holds other versions: the stage runs");
        }
        ContentKey = lockKey;
        return false;
    }

    /// <summary>LIVE1092 when StageCacheSize is not a size, LIVE1095 when the registry or its mode is not one.</summary>
    private void CheckCacheSettings()
    {
        if (!StageCache || StageCacheDirectory.Length == 0) return;
        if (LocalStageCache.ParseSize(StageCacheSize) is null)
            throw new LiveImageException(nameof(Strings.StageCacheSizeInvalid), StageCacheSize);
        if (StageCacheRegistry.Length > 0 && (StageCacheRegistryMode is not ("pull" or "push" or "both")
            || !Uri.TryCreate(StageCacheRegistry, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath.Trim('/').Length == 0 || uri.UserInfo.Length > 0))
            throw new LiveImageException(nameof(Strings.StageCacheRegistryInvalid), StageCacheRegistry, StageCacheRegistryMode);
    }

    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromMinutes(30) };
    private OciRegistry? _registry;
    private bool _registryDown;

    private OciRegistry? Registry()
    {
        if (StageCacheRegistry.Length == 0 || _registryDown) return null;
        return _registry ??= new OciRegistry(StageCacheRegistry, Http,
            RegistryCredentials.Find(new Uri(StageCacheRegistry).Authority, Environment.GetEnvironmentVariable, Environment.GetEnvironmentVariable("HOME")));
    }

    /// <summary>
    /// The local cache's entry of <paramref name="key"/>, else the registry's, pulled into the local cache
    /// (<paramref name="source"/> then names the registry). A registry that cannot be reached is LIVE1093, one
    /// that refuses the build's credentials LIVE1096, and a blob that does not match its digest LIVE1094:
    /// warnings, and the stage runs.
    /// </summary>
    private protected string? FindEntry(LocalStageCache cache, string key, string what, out string source)
    {
        source = "";
        if (cache.Find(key) is { } local) return local;
        if (StageCacheRegistryMode == "push" || Registry() is not { } registry) return null;
        var temporary = cache.Begin(key);
        try
        {
            if (!registry.Pull(key, temporary)) return null;
            cache.Commit(temporary, key);
            source = $" (pulled from {registry.Host})";
            return cache.Find(key);
        }
        catch (InvalidDataException e)
        {
            Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheRegistryCorrupt), what, Architecture, StageCacheRegistry, StageKey.Short(key), e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            RegistryDown(what, e);
        }
        finally
        {
            if (Directory.Exists(temporary)) cache.Remove(temporary);
        }
        return null;
    }

    /// <summary>Pushes the local entry of <paramref name="key"/> to the registry when it is asked to and the registry lacks it.</summary>
    private protected void Publish(LocalStageCache cache, string key, string what)
    {
        if (StageCacheRegistryMode == "pull" || Registry() is not { } registry || cache.Find(key) is not { } entry) return;
        try
        {
            if (registry.Has(key)) return;
            registry.Push(key, entry);
            Log.LogMessage(MessageImportance.Normal, $"{what} [{Architecture}]: pushed to {registry.Host}, key {StageKey.Short(key)}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            RegistryDown(what, e);
        }
    }

    private void RegistryDown(string what, Exception e)
    {
        _registryDown = true;
        if (e is RegistryRefusedException)
            Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheRegistryRefused), what, Architecture, StageCacheRegistry, e.Message, RegistryCredentials.Places);
        else Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheRegistryUnreachable), what, Architecture, StageCacheRegistry, e.Message);
    }

    /// <summary>Restores the stage from a cache entry; false (after a warning) when the entry cannot be used, and the stage runs.</summary>
    private protected virtual bool Restore(string entry) => false;

    /// <summary>The files outside the stage's layer that it writes, kept in its cache entry beside the layer (empty names keep their place).</summary>
    private protected virtual IReadOnlyList<string> CachedOutputs() => [];

    /// <summary>Stores the stage's result under <paramref name="key"/>; a failure to store is a warning, never a failed build.</summary>
    private protected virtual void Store(LocalStageCache cache, string key, IReadOnlyList<string> outputs)
    {
    }

    /// <summary>
    /// Writes a cache entry: <paramref name="fill"/> puts the files in a temporary entry, committed under
    /// <paramref name="key"/> only when complete; then least recently used entries over StageCacheSize go.
    /// A failure is LIVE1091, a warning: the build goes on.
    /// </summary>
    private protected void StoreEntry(LocalStageCache cache, string key, string what, Action<string> fill)
    {
        string? temporary = null;
        var clock = Stopwatch.StartNew();
        try
        {
            temporary = cache.Begin(key);
            fill(temporary);
            cache.Commit(temporary, key);
            temporary = null;
            Log.LogMessage(MessageImportance.Normal, $"{what} [{Architecture}]: stored in the stage cache, key {StageKey.Short(key)}, {clock.Elapsed.TotalSeconds:0.0} s");
            foreach (var removed in cache.Evict(LocalStageCache.ParseSize(StageCacheSize) ?? long.MaxValue))
                Log.LogMessage(MessageImportance.Normal, $"stage cache: evicted {Path.GetFileName(removed)} (least recently used, over StageCacheSize={StageCacheSize})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheStoreFailed), what, Architecture, cache.Root, e.Message);
        }
        finally
        {
            if (temporary is not null)
            {
                try { cache.Remove(temporary); }
                catch (IOException) { /* evicted as stale a day later */ }
            }
        }
    }

    /// <summary>The stage's own work.</summary>
    private protected abstract void ExecuteStage();
}
