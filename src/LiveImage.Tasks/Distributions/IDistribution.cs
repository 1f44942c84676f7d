using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Packages;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Distributions;

/// <summary>
/// What differs between the distributions an image can be built from: how the base system is
/// bootstrapped, how packages are installed and listed, the package manager's sources during the
/// build and in the shipped image, the live initramfs and the kernel arguments that boot it, the
/// kernel's file names and where the package manager keeps downloaded packages. The stages ask the
/// distribution the project's Distribution property names (<see cref="KnownDistributions.Get"/>) and never
/// branch on it; a second distribution is a second folder beside Debian/.
/// </summary>
internal interface IDistribution
{
    /// <summary>The value of the Distribution property that selects it, e.g. "debian".</summary>
    string Name { get; }

    /// <summary>Packages the bootstrap installs so that the image boots live: the live initramfs and an init.</summary>
    IReadOnlyList<string> LivePackages { get; }

    /// <summary>The kernel arguments that make the live initramfs find the root filesystem (LiveArguments' default).</summary>
    string LiveArguments { get; }

    /// <summary>The kernel package of an architecture.</summary>
    string KernelPackage(DebianArchitecture architecture);

    /// <summary>The kernel's files in the image: what the boot loaders get.</summary>
    KernelLayout Kernel { get; }

    /// <summary>Where the package manager keeps downloaded packages inside the image, which the shared package cache is linked into.</summary>
    PackageCacheLayout PackageCache { get; }

    /// <summary>The environment of the package manager and the package scripts inside the image: never ask, never page.</summary>
    Dictionary<string, string> PackageEnvironment();

    /// <summary>What the bootstrap does, for the stage's first line (e.g. "mmdebstrap trixie (minbase)").</summary>
    string BootstrapSummary(BootstrapOptions options);

    /// <summary>The host-side command that creates the base root filesystem in <see cref="BootstrapOptions.Root"/>.</summary>
    ToolPlan Bootstrap(BootstrapOptions options);

    /// <summary>
    /// The release dates of the archive the bootstrap last fetched for these options (as the package
    /// cache keeps its lists), one line each; empty when none is known. Part of the stage cache's keys.
    /// </summary>
    IReadOnlyList<string> ArchiveReleaseDates(BootstrapOptions options);

    /// <summary>The commands (run inside the image) that install the packages, one per group installed alike.</summary>
    PackageInstallPlan Install(IReadOnlyList<ITaskItem> packages);

    /// <summary>
    /// The host-side command (the image root in $LIVEIMAGE_ROOT) that sets the package configuration answers in
    /// <paramref name="selectionsFile"/> (debconf-set-selections lines) in the image, before packages are installed.
    /// </summary>
    ToolPlan Preseed(string selectionsFile);

    /// <summary>The line of an install's output that sums it up, if any.</summary>
    string? InstallSummary(IEnumerable<string> output);

    /// <summary>The package the install's output says does not exist, if any.</summary>
    string? MissingPackage(string output);

    /// <summary>The name=version pin whose version the install's output says the archive lacks, if any.</summary>
    (string Name, string Version)? MissingVersion(string output);

    /// <summary>The command (run inside the image) that lists the versions the archives offer of a package.</summary>
    ToolPlan AvailableVersions(string package);

    /// <summary>The versions in <see cref="AvailableVersions"/>' output, newest first, each once.</summary>
    IReadOnlyList<string> ParseAvailableVersions(string output);

    /// <summary>
    /// Writes the extra package sources in force during the build into <paramref name="layer"/> and returns the
    /// command (run inside the image) that fetches their package lists; null when there are none.
    /// </summary>
    ToolPlan? AddBuildSources(IReadOnlyList<ITaskItem> sources, string layer);

    /// <summary>
    /// The command (run inside the image) that leaves it as it ships: the image's own package sources instead
    /// of the build's, no package caches or lists, and the installed packages printed (see <see cref="InstalledPackages"/>).
    /// </summary>
    ToolPlan Finalize(FinalizeOptions options, string layer);

    /// <summary>The installed packages ("name version architecture") the finalize command printed in its log.</summary>
    IReadOnlyList<string> InstalledPackages(IEnumerable<string> finalizeLog);

    /// <summary>
    /// The installed packages with their source package and licences ("name\tversion\tarchitecture\tsource\tsource
    /// version\tlicence|licence…", licences as the package names them, empty when unknown) the finalize command printed.
    /// </summary>
    IReadOnlyList<string> BillOfMaterials(IEnumerable<string> finalizeLog);

    /// <summary>The installed packages with version and architecture in a stack of layers (topmost first); null when none holds a package database.</summary>
    IReadOnlyList<LockedPackage>? InstalledVersions(IEnumerable<string> layersTopFirst);

    /// <summary>The archives the package manager has lists of in a stack of layers (topmost first), with their release dates.</summary>
    IReadOnlyList<LockedArchive> ArchiveDates(IEnumerable<string> layersTopFirst);

    /// <summary>The file (relative to the image's root) that holds the lock file's versions while a stage installs, and its content.</summary>
    string LockPreferencesFile { get; }
    string LockPreferences(IEnumerable<LockedPackage> packages, string imageArchitecture);

    /// <summary>The command (run inside the image) that fetches the archives' lists again and moves every package to the version <see cref="LockPreferences"/> holds it to.</summary>
    ToolPlan ApplyLock();

    /// <summary>The command (run inside the image) that fetches the archives' lists again and writes every named package's candidate into <see cref="RefreshOutputFile"/>.</summary>
    ToolPlan Refresh(IEnumerable<string> packageNames);
    string RefreshOutputFile { get; }

    /// <summary>Per package in <see cref="Refresh"/>'s output: its candidate version and whether it comes from a security archive.</summary>
    IReadOnlyList<(string Name, string Candidate, bool Security)> ParseRefresh(string output);

    /// <summary>How many packages are installed in a stack of layers (topmost first); null when none holds a package database.</summary>
    int? InstalledPackageCount(IEnumerable<string> layersTopFirst);
}

/// <summary>A command the distribution wants run: what it is called in messages, its argument list and its environment.</summary>
internal sealed record ToolPlan(string What, string Description, IReadOnlyList<string> Command, Dictionary<string, string> Environment);

/// <summary>What an install does (for the stage's first line) and its commands.</summary>
internal sealed record PackageInstallPlan(string Description, IReadOnlyList<ToolPlan> Commands);

/// <summary>The kernel's files: /boot/&lt;Image&gt;&lt;version&gt;, /boot/&lt;Initrd&gt;&lt;version&gt; and the device trees in &lt;DeviceTrees&gt;&lt;version&gt;.</summary>
internal sealed record KernelLayout(string Image, string Initrd, string DeviceTrees);

/// <summary>The package manager's download directory inside the image and the file names of its packages.</summary>
internal sealed record PackageCacheLayout(string Directory, string Pattern);

/// <summary>What the bootstrap is asked for.</summary>
internal sealed record BootstrapOptions(
    string Suite, string Architecture, string Variant, string Components, string Mirror,
    IReadOnlyList<string> IncludePackages, IReadOnlyList<string> Keyrings, string Root, string ScratchDirectory,
    string PackageCache, bool Offline, string GrubEfiPackage, string GrubEfiFetchDirectory)
{
    /// <summary>The SourceDateEpoch property; empty: the suite's release date in the package lists the bootstrap fetched.</summary>
    public string SourceDateEpoch { get; init; } = "";
    /// <summary>Where the bootstrap writes the SOURCE_DATE_EPOCH it used, for the stages above it; empty for none.</summary>
    public string SourceDateEpochFile { get; init; } = "";
    /// <summary>The lock file's versions as the package manager's preferences (<see cref="IDistribution.LockPreferences"/>), in force while it installs; empty: none.</summary>
    public string LockPreferences { get; init; } = "";
}

/// <summary>What the finalize stage is asked for: the image's mirror (empty: the bootstrapped sources stay) and the extra sources.</summary>
internal sealed record FinalizeOptions(string Suite, string Components, string ImageMirror, IReadOnlyList<ITaskItem> Sources)
{
    /// <summary>Seconds since 1970 every date the image keeps is set to (shadow's last change); empty: none is.</summary>
    public string SourceDateEpoch { get; init; } = "";
}
