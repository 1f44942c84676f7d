using System.Globalization;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Disk;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Writes a USB disk image: the ISO-hybrid, then (1 MiB aligned, in a free slot of its DOS partition
/// table) a Linux partition holding an ext4 filesystem labelled 'persistence' with persistence.conf
/// ('/ union'), which live-boot's 'persistence' boot argument uses for the system's changes. No loop
/// device or mount: the partition table entry is written into the copy, and mkfs.ext4 fills the
/// filesystem from a directory at the partition's offset in the file.
/// </summary>
public sealed class MakePersistentDisk : StageTask
{
    public const string Label = "persistence";
    public const byte LinuxPartitionType = 0x83;
    private const long MiB = 1024 * 1024;

    [Required] public string IsoPath { get; set; } = "";
    [Required] public string OutputDisk { get; set; } = "";
    [Required] public string ScratchDirectory { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    /// <summary>The persistence partition's size in MiB (PersistenceSize).</summary>
    public string SizeMiB { get; set; } = "1024";
    /// <summary>The Persistence property: without it the ISO has no menu entry that uses the partition (a warning).</summary>
    public bool PersistenceEntry { get; set; }
    public override string Architecture { get; set; } = "amd64";

    private protected override bool WritesStamp => false;

    private protected override void ExecuteStage()
    {
        if (!long.TryParse(SizeMiB, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 8)
            throw new LiveImageException(nameof(Strings.PersistenceSizeInvalid), SizeMiB);
        if (!PersistenceEntry) Log.LogWarningWithCodeFromResources(nameof(Strings.PersistentDiskWithoutEntry), OutputDisk);
        _ = HostTools.Find("mkfs.ext4") ?? throw new LiveImageException(nameof(Strings.MissingTool), "mkfs.ext4", HostTools.PackageFor("mkfs.ext4"));
        High(nameof(Strings.StageStarting), "disk", Architecture, $"ISO-hybrid and a {size} MiB persistence partition");
        var started = DateTime.UtcNow;
        if (File.Exists(LogFile)) File.Delete(LogFile);

        var output = Path.GetFullPath(OutputDisk);
        var partial = output + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.Copy(IsoPath, partial, overwrite: true);
        var partition = AddPartition(partial, size * MiB);

        var content = Path.Combine(Path.GetFullPath(ScratchDirectory), "persistence");
        if (Directory.Exists(content)) Directory.Delete(content, recursive: true);
        Directory.CreateDirectory(content);
        File.WriteAllText(Path.Combine(content, "persistence.conf"), "/ union\n");
        var offset = partition.StartSector * MbrPartitionTable.SectorSize;
        var result = CreateRunner().Run(new ToolCommand("mkfs.ext4",
            ["-F", "-q", "-L", Label, "-d", content, "-E", $"offset={offset}", partial, $"{size * 1024}k"]) { LogPath = LogFile });
        if (result.ExitCode != 0)
        {
            File.Delete(partial);
            throw new LiveImageException(nameof(Strings.ToolFailed), "mkfs.ext4", result.ExitCode, "disk", result.TailText, result.LogPath);
        }
        File.Move(partial, output, overwrite: true);
        Log.LogMessage(MessageImportance.High, $"disk [{Architecture}]: {output}, partition {partition.Slot} '{Label}' at {offset / MiB} MiB, {size} MiB");
        High(nameof(Strings.StageFinished), "disk", Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    /// <summary>Grows the copy of the ISO and adds the partition after everything its table holds, 1 MiB aligned.</summary>
    internal static MbrPartition AddPartition(string disk, long bytes)
    {
        using var stream = new FileStream(disk, FileMode.Open, FileAccess.ReadWrite);
        var sector = new byte[MbrPartitionTable.SectorSize];
        stream.ReadExactly(sector);
        // a protective 0xEE entry (an ISO without isolinux's MBR, e.g. arm64's) makes Linux read the GPT instead, which would not show the partition
        var slot = MbrPartitionTable.HasSignature(sector) && MbrPartitionTable.Read(sector).All(p => p.Type != MbrPartitionTable.GptProtective)
            ? MbrPartitionTable.FreeSlot(sector) : null;
        if (slot is null) throw new LiveImageException(nameof(Strings.IsoHasNoFreePartitionSlot), disk);
        var used = MbrPartitionTable.Read(sector).Select(p => p.EndSector * MbrPartitionTable.SectorSize).Append(stream.Length).Max();
        var start = (used + MiB - 1) / MiB * MiB;
        var partition = new MbrPartition(slot.Value, LinuxPartitionType, start / MbrPartitionTable.SectorSize, bytes / MbrPartitionTable.SectorSize);
        MbrPartitionTable.Write(sector, partition);
        stream.SetLength(start + bytes);
        stream.Position = 0;
        stream.Write(sector);
        return partition;
    }
}
