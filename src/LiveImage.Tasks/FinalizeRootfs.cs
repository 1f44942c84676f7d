using LiveImage.Tasks.Rootfs;
using LiveImage.Tasks.Distributions;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Makes the image what it ships as (the distribution's finalize command): the image's package
/// sources instead of the build's, daemons unblocked, package caches and lists gone, no SSH host
/// keys, and every boot a first boot, so that each copy of the image gets its own machine id and keys.
/// </summary>
public sealed class FinalizeRootfs : RootfsStageTask
{
    [Required] public string Suite { get; set; } = "";
    public string Components { get; set; } = "main";
    /// <summary>Empty: the sources the bootstrapper wrote stay.</summary>
    public string ImageMirror { get; set; } = "";
    /// <summary>Where the list of installed packages (name version arch) is written on the host.</summary>
    public string ManifestFile { get; set; } = "";
    /// <summary>Resolved AptSource items: build-only ones are removed, image-only ones added.</summary>
    public ITaskItem[] AptSources { get; set; } = [];
    /// <summary>The image's SOURCE_DATE_EPOCH: dates the image keeps are set to it, caches that differ from build to build go; empty: neither.</summary>
    public string SourceDateEpoch { get; set; } = "";
    /// <summary>Where the installed packages with their source packages and licences are written for the SBOM; empty: nowhere.</summary>
    public string BillOfMaterialsFile { get; set; } = "";

    private protected override IReadOnlyList<string> CachedOutputs() => [ManifestFile, BillOfMaterialsFile];

    protected override void RunStage()
    {
        High(nameof(Strings.StageStarting), StageName, Architecture, ImageMirror.Length > 0 ? $"image sources {ImageMirror}" : "image sources as bootstrapped");
        var started = DateTime.UtcNow;
        var finalize = Distro.Finalize(new FinalizeOptions(Suite, Components, ImageMirror, AptSources) { SourceDateEpoch = SourceDateEpoch }, Layer);
        RunChecked(Namespace().InChroot(finalize.Command, LogFile, finalize.Environment), finalize.What);
        if (ManifestFile.Length > 0) WriteManifest();
        if (BillOfMaterialsFile.Length > 0)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(BillOfMaterialsFile))!);
            File.WriteAllLines(BillOfMaterialsFile, Distro.BillOfMaterials(File.ReadLines(LogFile)));
        }
        High(nameof(Strings.StageFinished), StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private void WriteManifest()
    {
        var lines = Distro.InstalledPackages(File.ReadLines(LogFile));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ManifestFile))!);
        File.WriteAllLines(ManifestFile, lines);
        Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {lines.Count} packages in the image");
    }
}
