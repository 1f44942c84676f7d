using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Iso;

/// <summary>Kernel versions as 'sort -V' orders them: digit runs numerically.</summary>
internal sealed class KernelVersionComparer : IComparer<string>
{
    public static readonly KernelVersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        var a = Regex.Split(x ?? "", @"(\d+)");
        var b = Regex.Split(y ?? "", @"(\d+)");
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var c = long.TryParse(a[i], out var na) && long.TryParse(b[i], out var nb) ? na.CompareTo(nb) : string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }
}
