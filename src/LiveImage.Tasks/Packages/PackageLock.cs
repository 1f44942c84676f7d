using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.Packages;

/// <summary>One installed package of a lock file: "name version architecture".</summary>
internal sealed record LockedPackage(string Name, string Version, string Architecture)
{
    public override string ToString() => $"{Name} {Version} {Architecture}";

    /// <summary>The name apt knows it by: name, or name:arch for another architecture than the image's (and than "all").</summary>
    public string AptName(string imageArchitecture) =>
        Architecture == "all" || Architecture == imageArchitecture ? Name : $"{Name}:{Architecture}";
}

/// <summary>One package archive the image was resolved against: its suite (codename) and release date.</summary>
internal sealed record LockedArchive(string Suite, DateTimeOffset Date)
{
    public override string ToString() => $"{Suite} {Date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// packages.lock.&lt;arch&gt;: the packages an image holds, a small text file users commit. Sections in a fixed
/// order, each sorted, one entry per line so that a diff shows exactly what changed:
/// <c>[archives]</c> (suite and release date of every apt source), <c>[bootstrap]</c> (what the bootstrap
/// installed) and <c>[packages]</c> (what the package stage added); '#' starts a comment.
/// The two package sections are separate inputs of their stages: a new version of a package the
/// package stage installed reruns that stage, not the bootstrap.
/// </summary>
internal sealed class PackageLock
{
    public const string ArchivesSection = "archives";
    public const string BootstrapSection = "bootstrap";
    public const string PackagesSection = "packages";

    public required IReadOnlyList<LockedArchive> Archives { get; init; }
    public required IReadOnlyList<LockedPackage> Bootstrap { get; init; }
    public required IReadOnlyList<LockedPackage> Packages { get; init; }

    public IEnumerable<LockedPackage> All => Bootstrap.Concat(Packages);

    public static PackageLock Create(IEnumerable<LockedArchive> archives, IEnumerable<LockedPackage> bootstrap, IEnumerable<LockedPackage> packages) => new()
    {
        Archives = [.. archives.DistinctBy(a => a.Suite).OrderBy(a => a.Suite, StringComparer.Ordinal)],
        Bootstrap = Sorted(bootstrap),
        Packages = Sorted(packages),
    };

    private static List<LockedPackage> Sorted(IEnumerable<LockedPackage> packages) =>
        [.. packages.DistinctBy(p => (p.Name, p.Architecture)).OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Architecture, StringComparer.Ordinal)];

    /// <summary>The file's text; the same lock always gives the same bytes.</summary>
    public string Write(string architecture)
    {
        var text = new StringBuilder();
        text.Append($"# The packages of this image ({architecture}), written by LiveImage.Sdk after the package stage. Commit this file:\n");
        text.Append("# builds install exactly these versions. 'dotnet build -t:Refresh' resolves them afresh against the archives.\n");
        text.Append($"[{ArchivesSection}]\n");
        foreach (var archive in Archives) text.Append(archive).Append('\n');
        text.Append($"[{BootstrapSection}]\n");
        foreach (var package in Bootstrap) text.Append(package).Append('\n');
        text.Append($"[{PackagesSection}]\n");
        foreach (var package in Packages) text.Append(package).Append('\n');
        return text.ToString();
    }

    /// <summary>Reads a lock file; LIVE1102 names the line that is not an entry of its section.</summary>
    public static PackageLock Parse(string text, string path)
    {
        var archives = new List<LockedArchive>();
        var bootstrap = new List<LockedPackage>();
        var packages = new List<LockedPackage>();
        string? section = null;
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                section = line[1..^1];
                if (section is not (ArchivesSection or BootstrapSection or PackagesSection)) throw Invalid(path, number, raw);
                continue;
            }
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (section)
            {
                case ArchivesSection when fields.Length == 2 && DateTimeOffset.TryParse(fields[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date):
                    archives.Add(new LockedArchive(fields[0], date.ToUniversalTime()));
                    break;
                case BootstrapSection when fields.Length == 3:
                    bootstrap.Add(new LockedPackage(fields[0], fields[1], fields[2]));
                    break;
                case PackagesSection when fields.Length == 3:
                    packages.Add(new LockedPackage(fields[0], fields[1], fields[2]));
                    break;
                default:
                    throw Invalid(path, number, raw);
            }
        }
        return Create(archives, bootstrap, packages);
    }

    private static LiveImageException Invalid(string path, int line, string text) =>
        new(nameof(Strings.PackageLockInvalid), path, line, text.Trim());

    /// <summary>The release date of the suite the image is built from, the default SOURCE_DATE_EPOCH; null when the lock has none.</summary>
    public long? SourceDateEpoch(string suite) =>
        Archives.FirstOrDefault(a => a.Suite == suite)?.Date.ToUnixTimeSeconds();

    /// <summary>The bootstrap stage's input: its packages and the suite's date (the image's SOURCE_DATE_EPOCH).</summary>
    public string BootstrapInput(string suite) =>
        "PackageLock=" + Hash(Bootstrap.Select(p => p.ToString()).Prepend(SourceDateEpoch(suite)?.ToString(CultureInfo.InvariantCulture) ?? ""));

    /// <summary>The package stage's input: every locked version (it pins the bootstrap's too, as dependencies).</summary>
    public string PackagesInput() => "PackageLock=" + Hash(All.Select(p => p.ToString()));

    private static string Hash(IEnumerable<string> lines) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))))[..16].ToLowerInvariant();

    /// <summary>Whether two lists name the same packages at the same versions and architectures, in any order.</summary>
    public static bool SameVersions(IEnumerable<LockedPackage> a, IEnumerable<LockedPackage> b) =>
        a.Select(p => p.ToString()).Order(StringComparer.Ordinal).SequenceEqual(b.Select(p => p.ToString()).Order(StringComparer.Ordinal));

    /// <summary>The packages whose version differs between two locks, and those added or removed (an empty version).</summary>
    public static IReadOnlyList<(string Name, string Old, string New)> Changes(PackageLock before, PackageLock after)
    {
        var old = before.All.ToDictionary(p => (p.Name, p.Architecture), p => p.Version);
        var now = after.All.ToDictionary(p => (p.Name, p.Architecture), p => p.Version);
        return [.. old.Keys.Union(now.Keys).OrderBy(k => k.Name, StringComparer.Ordinal).ThenBy(k => k.Architecture, StringComparer.Ordinal)
            .Select(k => (k.Name, Old: old.GetValueOrDefault(k, ""), New: now.GetValueOrDefault(k, "")))
            .Where(c => c.Old != c.New)];
    }
}
