using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Packages;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Distributions.Debian;

/// <summary>Debian: mmdebstrap, apt and dpkg, live-boot.</summary>
internal sealed class DebianDistribution : IDistribution
{
    public string Name => "debian";

    /// <summary>live-boot's initramfs scripts, and systemd as init.</summary>
    public IReadOnlyList<string> LivePackages { get; } = ["live-boot", "systemd-sysv"];

    /// <summary>live-boot's: find the squashfs on the medium, and honour live-config's components.</summary>
    public string LiveArguments => "boot=live components";

    public string KernelPackage(DebianArchitecture architecture) => architecture.KernelPackage;

    /// <summary>/boot/vmlinuz-&lt;version&gt;, /boot/initrd.img-&lt;version&gt;, device trees in /usr/lib/linux-image-&lt;version&gt;/.</summary>
    public KernelLayout Kernel { get; } = new("vmlinuz-", "initrd.img-", "/usr/lib/linux-image-");

    public PackageCacheLayout PackageCache { get; } = new("/var/cache/apt/archives", "*.deb");

    public Dictionary<string, string> PackageEnvironment() => Apt.Environment();

    public string BootstrapSummary(BootstrapOptions options) => $"mmdebstrap {options.Suite} ({options.Variant})";

    public ToolPlan Bootstrap(BootstrapOptions options) => Mmdebstrap.Command(options);

    public IReadOnlyList<string> ArchiveReleaseDates(BootstrapOptions options) => Mmdebstrap.ReleaseDates(options);

    public PackageInstallPlan Install(IReadOnlyList<ITaskItem> packages) => Apt.Install(packages);

    public string? InstallSummary(IEnumerable<string> output) => Apt.InstallSummary(output);

    // the file stays on the host: the image's own debconf-set-selections reads it on its standard input
    public ToolPlan Preseed(string selectionsFile) => new("debconf-set-selections", "debconf-set-selections",
        ["/bin/sh", "-c", "chroot \"$LIVEIMAGE_ROOT\" debconf-set-selections < \"$1\"", "debconf-set-selections", selectionsFile], Apt.Environment());

    public string? MissingPackage(string output) => Apt.FindMissingPackage(output);

    public (string Name, string Version)? MissingVersion(string output) => Apt.FindMissingVersion(output);

    public ToolPlan AvailableVersions(string package) => Apt.AvailableVersions(package);

    public IReadOnlyList<string> ParseAvailableVersions(string output) => Apt.ParseMadison(output);

    public ToolPlan? AddBuildSources(IReadOnlyList<ITaskItem> sources, string layer) => Apt.AddBuildSources(sources, layer);

    public ToolPlan Finalize(FinalizeOptions options, string layer) => Apt.Finalize(options, layer);

    public IReadOnlyList<string> InstalledPackages(IEnumerable<string> finalizeLog) => Apt.InstalledPackages(finalizeLog);

    public IReadOnlyList<string> BillOfMaterials(IEnumerable<string> finalizeLog) => Apt.BillOfMaterials(finalizeLog);

    public IReadOnlyList<LockedPackage>? InstalledVersions(IEnumerable<string> layersTopFirst) => DpkgStatus.InstalledVersions(layersTopFirst);

    public IReadOnlyList<LockedArchive> ArchiveDates(IEnumerable<string> layersTopFirst) => DpkgStatus.ArchiveDates(layersTopFirst);

    public string LockPreferencesFile => Apt.LockPreferencesFile;

    public string LockPreferences(IEnumerable<LockedPackage> packages, string imageArchitecture) => Apt.LockPreferences(packages, imageArchitecture);

    public ToolPlan ApplyLock() => Apt.ApplyLock();

    public ToolPlan Refresh(IEnumerable<string> packageNames) => Apt.Refresh(packageNames);

    public string RefreshOutputFile => Apt.PolicyFile;

    public IReadOnlyList<(string Name, string Candidate, bool Security)> ParseRefresh(string output) => Apt.ParsePolicy(output);

    public int? InstalledPackageCount(IEnumerable<string> layersTopFirst) => DpkgStatus.InstalledPackages(layersTopFirst);
}
