using System.Globalization;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// The outer build's closing table: one line per architecture with its ISO, the ISO's size and how
/// long that inner build took (metadata Seconds, which each inner build returns with its ISO).
/// </summary>
public sealed class SummarizeImages : LiveImageTask
{
    /// <summary>The inner builds' outputs: the ISO, with metadata Architecture and Seconds.</summary>
    public ITaskItem[] Images { get; set; } = [];

    protected override void ExecuteCore()
    {
        string[] lines = [.. Table(Images.Select(i => (
            i.GetMetadata("Architecture"),
            i.GetMetadata("FullPath"),
            File.Exists(i.GetMetadata("FullPath")) ? new FileInfo(i.GetMetadata("FullPath")).Length : (long?)null,
            double.TryParse(i.GetMetadata("Seconds"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : (double?)null)))];
        foreach (var line in lines) Log.LogMessage(MessageImportance.High, line);
    }

    internal static IEnumerable<string> Table(IEnumerable<(string Architecture, string Iso, long? Bytes, double? Seconds)> rows)
    {
        var cells = rows.Select(r => new[]
        {
            r.Architecture,
            r.Iso,
            r.Bytes is { } b ? $"{b / (1024.0 * 1024.0):0} MiB" : "-",
            r.Seconds is { } s ? Duration(s) : "-",
        }).ToList();
        cells.Insert(0, ["architecture", "ISO", "size", "time"]);
        var widths = Enumerable.Range(0, 4).Select(c => cells.Max(row => row[c].Length)).ToArray();
        // size and time right-aligned, so the figures line up
        return cells.Select(row => string.Join("  ",
            row[0].PadRight(widths[0]), row[1].PadRight(widths[1]), row[2].PadLeft(widths[2]), row[3].PadLeft(widths[3])).TrimEnd());
    }

    internal static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:00}m {t.Seconds:00}s"
            : t.TotalMinutes >= 1 ? $"{t.Minutes}m {t.Seconds:00}s"
            : $"{seconds.ToString("0.0", CultureInfo.InvariantCulture)} s";
    }
}
