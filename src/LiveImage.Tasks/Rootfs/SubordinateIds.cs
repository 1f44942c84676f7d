using System.Runtime.InteropServices;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// The ranges of subordinate user and group ids (/etc/subuid, /etc/subgid: 'name-or-uid:start:count')
/// that newuidmap and newgidmap let an ordinary user map into a user namespace, so that the image's
/// files can belong to root, _apt or the live user as they do in a root build.
/// </summary>
internal static class SubordinateIds
{
    /// <summary>Ids the image's users and groups need: Debian's system and normal ids, and nobody (65534).</summary>
    public const long Needed = 65536;

    /// <summary>The first range of at least <see cref="Needed"/> ids that <paramref name="user"/> (by name or uid) owns in <paramref name="file"/>, or null.</summary>
    public static (long Start, long Count)? Find(string file, string user, uint uid)
    {
        foreach (var (owner, start, count) in Read(file))
            if ((owner == user || owner == uid.ToString()) && count >= Needed) return (start, count);
        return null;
    }

    /// <summary>A start for a new range of <see cref="Needed"/> ids that overlaps no range in <paramref name="file"/> (useradd's default first).</summary>
    public static long FreeStart(string file) =>
        Read(file).Select(r => r.Start + r.Count).Append(100000).Max();

    private static IEnumerable<(string Owner, long Start, long Count)> Read(string file)
    {
        if (!File.Exists(file)) yield break;
        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Trim().Split(':');
            if (parts.Length == 3 && long.TryParse(parts[1], out var start) && long.TryParse(parts[2], out var count))
                yield return (parts[0], start, count);
        }
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUid();

    /// <summary>The build's effective uid.</summary>
    public static uint CurrentUid => GetEffectiveUid();
}
