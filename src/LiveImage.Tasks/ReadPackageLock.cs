using System.Globalization;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Packages;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Reads the project's lock file (packages.lock.&lt;arch&gt;) before any stage runs: the inputs it gives the
/// bootstrap and package stages (a changed version reruns the stage that installs it), the SOURCE_DATE_EPOCH
/// it implies (the suite's release date), and with LockedMode the check that every package the project
/// asks for is locked (LIVE1100). No lock file: no input, and nothing to check (LIVE1103 with LockedMode).
/// </summary>
public sealed class ReadPackageLock : LiveImageTask
{
    [Required] public string LockFile { get; set; } = "";
    [Required] public string Suite { get; set; } = "";
    public bool LockedMode { get; set; }
    /// <summary>The packages the project and the SDK ask for (Package and bootstrap items; name=version and name:arch allowed).</summary>
    public ITaskItem[] Packages { get; set; } = [];

    [Output] public string BootstrapInput { get; private set; } = "";
    [Output] public string PackagesInput { get; private set; } = "";
    [Output] public string SourceDateEpoch { get; private set; } = "";

    protected override void ExecuteCore()
    {
        if (!File.Exists(LockFile))
        {
            if (LockedMode) throw new LiveImageException(nameof(Strings.PackageLockMissing), LockFile);
            return;
        }
        var lockFile = PackageLock.Parse(File.ReadAllText(LockFile), LockFile);
        BootstrapInput = lockFile.BootstrapInput(Suite);
        PackagesInput = lockFile.PackagesInput();
        SourceDateEpoch = lockFile.SourceDateEpoch(Suite)?.ToString(CultureInfo.InvariantCulture) ?? "";
        if (!LockedMode) return;
        var locked = lockFile.All.Select(p => p.Name).ToHashSet();
        foreach (var package in Packages)
        {
            var name = PackageName(package.ItemSpec);
            if (name is not null && !locked.Contains(name))
                Log.LogErrorWithCodeFromResources(nameof(Strings.PackageNotLocked), name, LockFile);
        }
    }

    /// <summary>The package name of an item ("tmux=3.5a-3", "libc6:amd64"); null for an apt pattern, which names no one package.</summary>
    internal static string? PackageName(string item)
    {
        var name = item.Split('=', ':')[0].Trim();
        return name.Length == 0 || name.IndexOfAny(['?', '*', '~', '[', '^', '$']) >= 0 ? null : name;
    }
}
