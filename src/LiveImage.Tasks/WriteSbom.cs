using System.Globalization;
using System.Security.Cryptography;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Sbom;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Writes the image's SPDX 2.3 document beside the ISO (&lt;name&gt;-&lt;version&gt;-&lt;arch&gt;.spdx.json): the
/// ISO and its squashfs files with their checksums, and every installed binary package with its version,
/// architecture (purl), source package and licences, from the finalize stage's bill of materials.
/// Reproducible: dated by SOURCE_DATE_EPOCH, its namespace derived from the ISO's checksum.
/// </summary>
public sealed class WriteSbom : LiveImageTask
{
    [Required] public string BillOfMaterialsFile { get; set; } = "";
    [Required] public string IsoPath { get; set; } = "";
    /// <summary>The squashfs files of the ISO's live/ folder, bottom first.</summary>
    public ITaskItem[] SquashfsFiles { get; set; } = [];
    [Required] public string OutputFile { get; set; } = "";
    public string Distribution { get; set; } = "debian";
    public string Architecture { get; set; } = "";
    /// <summary>Empty: the document is dated by the clock (an image built without SOURCE_DATE_EPOCH).</summary>
    public string SourceDateEpoch { get; set; } = "";

    /// <summary>
    /// A module's document (an image built on a base image): the base's layers, bottom first. The packages installed
    /// there at the same version are left out, so the document lists what this level's module adds or changes.
    /// </summary>
    public ITaskItem[] BaseLayers { get; set; } = [];

    protected override void ExecuteCore()
    {
        if (!File.Exists(BillOfMaterialsFile)) throw new LiveImageException(nameof(Strings.SbomInputMissing), BillOfMaterialsFile, OutputFile);
        var inBase = BaseLayers.Length == 0 ? [] : (KnownDistributions.Get(Distribution).InstalledVersions(BaseLayers.Select(l => l.GetMetadata("FullPath")).Reverse()) ?? [])
            .Select(p => (p.Name, p.Version, p.Architecture)).ToHashSet();
        var packages = File.ReadLines(BillOfMaterialsFile).Select(SbomPackage.Parse).OfType<SbomPackage>()
            .Where(p => !inBase.Contains((p.Name, p.Version, p.Architecture)))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Architecture, StringComparer.Ordinal).ToList();
        var created = long.TryParse(SourceDateEpoch, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            ? DateTimeOffset.FromUnixTimeSeconds(epoch) : DateTimeOffset.UtcNow;
        var name = Path.GetFileNameWithoutExtension(OutputFile.EndsWith(".spdx.json") ? OutputFile[..^".json".Length] : OutputFile);
        var text = SpdxDocument.Write(name, Distribution, Checksums(IsoPath, Path.GetFileName(IsoPath)),
            SquashfsFiles.Select(s => Checksums(s.GetMetadata("FullPath"), "live/" + Path.GetFileName(s.ItemSpec))).ToList(),
            packages, created, "Tool: LiveImage.Sdk");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(OutputFile))!);
        File.WriteAllText(OutputFile + ".tmp", text);
        File.Move(OutputFile + ".tmp", OutputFile, overwrite: true);
        Log.LogMessage(MessageImportance.High, $"sbom [{Architecture}]: {OutputFile} ({packages.Count} packages{(BaseLayers.Length > 0 ? " this module adds to its base" : "")}, SPDX 2.3)");
    }

    private static SbomFile Checksums(string path, string name)
    {
        using var stream = File.OpenRead(path);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
            sha1.AppendData(buffer, 0, read);
        }
        return new SbomFile(name, Convert.ToHexString(sha256.GetHashAndReset()).ToLowerInvariant(), Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant());
    }
}
