using System.Buffers.Binary;

namespace LiveImage.Tasks.Disk;

/// <summary>One entry of a DOS (MBR) partition table: type and extent in 512-byte sectors.</summary>
internal sealed record MbrPartition(int Slot, byte Type, long StartSector, long Sectors)
{
    public long EndSector => StartSector + Sectors;
}

/// <summary>
/// The DOS partition table in the first sector of an ISO-hybrid. xorriso's isohybrid MBR (partition 1:
/// the whole ISO, partition 2: the EFI image inside it) has no protective 0xEE entry, so Linux reads
/// these four entries and not the hybrid GPT: a partition added in a free slot after the ISO is one
/// Linux (and live-boot's search for a 'persistence' label) sees.
/// </summary>
internal static class MbrPartitionTable
{
    public const int SectorSize = 512;
    /// <summary>The type of a protective MBR's entry: the disk is GPT-partitioned.</summary>
    public const byte GptProtective = 0xEE;
    private const int TableOffset = 446;
    private const int EntrySize = 16;

    public static bool HasSignature(ReadOnlySpan<byte> sector) => sector.Length >= SectorSize && sector[510] == 0x55 && sector[511] == 0xAA;

    public static IReadOnlyList<MbrPartition> Read(ReadOnlySpan<byte> sector)
    {
        var entries = new List<MbrPartition>();
        for (var slot = 0; slot < 4; slot++)
        {
            var e = sector.Slice(TableOffset + slot * EntrySize, EntrySize);
            var sectors = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
            if (e[4] == 0 && sectors == 0) continue;
            entries.Add(new MbrPartition(slot + 1, e[4], BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), sectors));
        }
        return entries;
    }

    /// <summary>The first slot (1-4) no entry uses, or null.</summary>
    public static int? FreeSlot(ReadOnlySpan<byte> sector)
    {
        var used = Read(sector).Select(p => p.Slot).ToHashSet();
        return Enumerable.Range(1, 4).Cast<int?>().FirstOrDefault(s => !used.Contains(s!.Value));
    }

    /// <summary>Writes an entry; its CHS fields say "beyond CHS", as for any partition past 8 GiB (LBA only).</summary>
    public static void Write(Span<byte> sector, MbrPartition partition)
    {
        if (partition.Slot is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(partition), "slot 1-4");
        if (partition.EndSector > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(partition), "past 2 TiB: a DOS partition table cannot say it");
        var e = sector.Slice(TableOffset + (partition.Slot - 1) * EntrySize, EntrySize);
        e[0] = 0x00;
        e[1] = 0xFE; e[2] = 0xFF; e[3] = 0xFF;
        e[4] = partition.Type;
        e[5] = 0xFE; e[6] = 0xFF; e[7] = 0xFF;
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)partition.StartSector);
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], (uint)partition.Sectors);
    }
}
