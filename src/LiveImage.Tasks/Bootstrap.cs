using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Packages;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Creates the base root filesystem in the bottom layer with the distribution's bootstrapper
/// (Debian: mmdebstrap). The kernel, the live initramfs and the other packages the SDK needs are
/// installed here without Recommends (which keeps the base layer small); the user's packages come later,
/// through apt with Recommends (their task-* metapackages need them).
/// </summary>
public sealed class Bootstrap : RootfsStageTask
{
    [Required] public string Suite { get; set; } = "";
    public string Variant { get; set; } = "minbase";
    public string Components { get; set; } = "main";
    /// <summary>Empty: no mirror is named, mmdebstrap uses its own default.</summary>
    public string Mirror { get; set; } = "";
    public string[] IncludePackages { get; set; } = [];
    /// <summary>Extra keyring files or directories for a third-party mirror.</summary>
    public string[] Keyrings { get; set; } = [];
    /// <summary>Build from the package cache alone: its package lists and .debs, no network.</summary>
    public bool Offline { get; set; }
    /// <summary>
    /// A GRUB EFI package (grub-efi-arm64-bin) the host has none of for this architecture: it is taken
    /// from the image's archive, unpacked into <see cref="GrubEfiFetchDirectory"/> and never installed.
    /// </summary>
    public string GrubEfiPackage { get; set; } = "";
    public string GrubEfiFetchDirectory { get; set; } = "";
    /// <summary>The SourceDateEpoch property; empty: the suite's release date (the Date of its Release file).</summary>
    public string SourceDateEpoch { get; set; } = "";
    /// <summary>Where the SOURCE_DATE_EPOCH the image is built with is written, for the stages above.</summary>
    public string SourceDateEpochFile { get; set; } = "";

    /// <summary>The project's lock file: the versions of its [bootstrap] section are installed; absent: the archive's candidates.</summary>
    public string PackageLockFile { get; set; } = "";

    /// <summary>GRUB's EFI files fetched beside the layer are not part of a cache entry: such a bootstrap is not cached.</summary>
    private protected override string? LogicVersion => GrubEfiPackage.Length > 0 ? null : base.LogicVersion;

    private protected override IReadOnlyList<string> CachedOutputs() => [SourceDateEpochFile];

    /// <summary>
    /// Without a package lock file (a StageKeyFiles item that exists) the archive's release dates are
    /// part of the key, so a cached bootstrap is never older than the archive's newest release that
    /// a build of these options has fetched.
    /// </summary>
    private protected override IEnumerable<string> KeyExtras(bool withoutLock) =>
        !withoutLock && StageKeyFiles.Any(f => File.Exists(f.ItemSpec)) ? [] : Distro.ArchiveReleaseDates(Options(""));

    /// <summary>The bootstrap's layer holds the lock's [bootstrap] section, version for version.</summary>
    private protected override bool HoldsLockedVersions() =>
        File.Exists(PackageLockFile) && Distro.InstalledVersions([Path.GetFullPath(Layer)]) is { } installed
        && PackageLock.SameVersions(PackageLock.Parse(File.ReadAllText(PackageLockFile), PackageLockFile).Bootstrap, installed);

    private BootstrapOptions Options(string root) =>
        new(Suite, Architecture, Variant, Components, Mirror, IncludePackages, Keyrings,
            root, ScratchDirectory, PackageCache, Offline, GrubEfiPackage, GrubEfiFetchDirectory)
        { SourceDateEpoch = SourceDateEpoch, SourceDateEpochFile = SourceDateEpochFile };

    protected override void RunStage()
    {
        var ns = Namespace(system: false);
        var options = Options(ns.MergedDirectory) with
        {
            LockPreferences = File.Exists(PackageLockFile)
                ? Distro.LockPreferences(PackageLock.Parse(File.ReadAllText(PackageLockFile), PackageLockFile).Bootstrap, Architecture) : "",
        };
        High(nameof(Strings.StageStarting), StageName, Architecture, Distro.BootstrapSummary(options));
        var started = DateTime.UtcNow;
        var plan = Distro.Bootstrap(options);
        var command = ns.OnHost(plan.Command, LogFile, plan.Environment);
        RunChecked(command, plan.What);
        High(nameof(Strings.StageFinished), StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }
}
