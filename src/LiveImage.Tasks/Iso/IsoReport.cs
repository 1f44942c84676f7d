using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Iso;

/// <summary>A file of the ISO: where its data starts (2 KiB blocks) and its size.</summary>
internal sealed record IsoFile(string Path, long Lba, long Size)
{
    public long Offset => Lba * 2048;
}

/// <summary>
/// What 'xorriso -indev ISO -report_el_torito plain -report_system_area plain -find / -type f
/// -exec report_lba' says about an ISO: its El Torito boot entries (platform per entry), the
/// system area (MBR, GPT) and every file with its data's block address, so that a squashfs
/// inside the ISO can be read in place (unsquashfs -o) without mounting anything.
/// </summary>
internal sealed partial class IsoReport
{
    public IReadOnlyList<string> BootPlatforms { get; private init; } = [];
    public string SystemArea { get; private init; } = "";
    public bool HasMbrPartitionTable { get; private init; }
    public bool HasGpt { get; private init; }
    public IReadOnlyDictionary<string, IsoFile> Files { get; private init; } = new Dictionary<string, IsoFile>();

    public static IsoReport Parse(IEnumerable<string> lines)
    {
        var platforms = new List<string>();
        var files = new Dictionary<string, IsoFile>(StringComparer.Ordinal);
        var summary = "";
        var mbr = false;
        var gpt = false;
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (BootImage().Match(line) is { Success: true } boot) platforms.Add(boot.Groups["platform"].Value);
            else if (line.StartsWith("System area summary:", StringComparison.Ordinal)) summary = line["System area summary:".Length..].Trim();
            else if (line.StartsWith("MBR partition      :", StringComparison.Ordinal)) mbr = true;
            else if (line.StartsWith("GPT partition name :", StringComparison.Ordinal) || line.StartsWith("GPT disk GUID", StringComparison.Ordinal)) gpt = true;
            else if (FileLba().Match(line) is { Success: true } file)
            {
                var path = file.Groups["path"].Value.Replace("'\"'\"'", "'");
                files[path] = new IsoFile(path, long.Parse(file.Groups["lba"].Value), long.Parse(file.Groups["size"].Value));
            }
        }
        return new IsoReport { BootPlatforms = platforms, SystemArea = summary, HasMbrPartitionTable = mbr, HasGpt = gpt, Files = files };
    }

    // "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4         641"
    [GeneratedRegex(@"^El Torito boot img :\s+\d+\s+(?<platform>\S+)\s")]
    private static partial Regex BootImage();

    // "File data lba:  0 ,     1428 ,   102224 , 209354752 , '/live/filesystem.squashfs'"
    [GeneratedRegex(@"^File data lba:\s*\d+\s*,\s*(?<lba>\d+)\s*,\s*\d+\s*,\s*(?<size>\d+)\s*,\s*'(?<path>.*)'$")]
    private static partial Regex FileLba();
}
