using System.Buffers.Binary;
using System.Xml;
using System.Xml.Linq;

namespace LiveImage.Tasks.Configuration;

/// <summary>
/// Input checks shared by the inner build (<see cref="ResolveLiveImageConfiguration"/>) and the
/// outer one (<see cref="CheckArchitectures"/>): which architectures a suite has, separator typos
/// in Architectures, property names that look like a misspelt SDK property, splash image headers.
/// </summary>
internal static class ProjectInputChecks
{
    /// <summary>
    /// Suites without a kernel for an architecture the SDK knows. Debian dropped i386 as a regular
    /// architecture in trixie: no official kernel, no installer (trixie release notes, 5.1.1), so
    /// trixie, forky, sid and the aliases that point at them cannot boot an i386 live image.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string[]> NoKernel = new Dictionary<string, string[]>
    {
        ["i386"] = ["trixie", "forky", "sid", "stable", "testing", "unstable"],
    };

    /// <summary>The suites that still have the architecture, for the fix in the message.</summary>
    public static bool SuiteHasArchitecture(string suite, string architecture) =>
        !(NoKernel.TryGetValue(architecture, out var suites) && suites.Contains(suite.Trim(), StringComparer.Ordinal));

    public static string SuitesWithArchitecture(string architecture) =>
        string.Join(", ", DebianSuite.Codenames.Concat(DebianSuite.Aliases).Where(s => SuiteHasArchitecture(s, architecture)));

    /// <summary>The separators people type by mistake between architectures: ',' and white space.</summary>
    public static bool HasSeparatorTypo(string entry) => entry.Trim().IndexOfAny([',', ' ', '\t', '|', ':']) >= 0;

    /// <summary>The list as it was meant: split on every separator, joined with ';'.</summary>
    public static string AsSemicolonList(string entry) =>
        string.Join(';', entry.Split([',', ' ', '\t', '|', ':', ';'], StringSplitOptions.RemoveEmptyEntries));

    // ---- misspelt properties ------------------------------------------------------------------

    /// <summary>Common MSBuild property names a project may set that are not ours but are close to ours.</summary>
    private static readonly HashSet<string> CommonMSBuildProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        "Configurations", "Platform", "Platforms", "Version", "VersionPrefix", "VersionSuffix", "Authors", "Description",
        "NoWarn", "WarningsAsErrors", "TreatWarningsAsErrors", "OutDir", "IntDir", "TargetFramework", "TargetFrameworks",
    };

    /// <summary>
    /// The public property names of the SDK, read from its own .props/.targets files: every child
    /// of a PropertyGroup and every $(Name) reference, minus private (_X) and MSBuild names. Reading
    /// them from the files keeps the list right as properties are added.
    /// </summary>
    public static HashSet<string> SdkPropertyNames(IEnumerable<string> sdkFiles)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in sdkFiles)
        {
            if (!File.Exists(file)) continue;
            var text = File.ReadAllText(file);
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\$\(([A-Za-z][A-Za-z0-9_]*)[).]"))
                names.Add(m.Groups[1].Value);
            try
            {
                foreach (var group in XDocument.Parse(text).Descendants().Where(e => e.Name.LocalName == "PropertyGroup"))
                    foreach (var property in group.Elements()) names.Add(property.Name.LocalName);
            }
            catch (XmlException) { /* a broken SDK file fails the build elsewhere */ }
        }
        names.RemoveWhere(n => n.StartsWith('_') || n.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase));
        return names;
    }

    /// <summary>A property the project sets, where it sets it, and the SDK property it probably meant.</summary>
    public sealed record Misspelling(string Name, string Suggestion, int Line, int Column);

    /// <summary>
    /// The properties set in the project file's top-level PropertyGroups that are not SDK properties
    /// but are within a small edit distance of one (case-insensitively): Suit, LivePasword.
    /// Properties far from every SDK name are the project's own and are left alone.
    /// </summary>
    public static IReadOnlyList<Misspelling> MisspeltProperties(string projectFile, IReadOnlySet<string> known)
    {
        XDocument project;
        try { project = XDocument.Load(projectFile, LoadOptions.SetLineInfo); }
        catch (Exception e) when (e is XmlException or IOException) { return []; }
        var result = new List<Misspelling>();
        // suggestions: PascalCase SDK names only (not environment variables such as HOME)
        var publicNames = known.Where(n => !CommonMSBuildProperties.Contains(n) && n.Any(char.IsLower)).ToList();
        foreach (var group in project.Root?.Elements().Where(e => e.Name.LocalName == "PropertyGroup") ?? [])
        {
            foreach (var property in group.Elements())
            {
                var name = property.Name.LocalName;
                if (known.Contains(name) || name.StartsWith('_') || CommonMSBuildProperties.Contains(name)) continue;
                var best = publicNames
                    .Select(k => (Name: k, Distance: EditDistance(name.ToLowerInvariant(), k.ToLowerInvariant())))
                    .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
                    .FirstOrDefault();
                if (best.Name is null || best.Distance > AllowedDistance(name) || IsOwnVariant(name, best.Name)) continue;
                var line = (IXmlLineInfo)property;
                result.Add(new Misspelling(name, best.Name, line.LineNumber, line.LinePosition));
            }
        }
        return result;
    }

    /// <summary>One typo in a short name, two in a longer one: close enough to mean ours, far enough not to flag the project's own names.</summary>
    private static int AllowedDistance(string name) => name.Length <= 5 ? 1 : 2;

    /// <summary>MyImageName, ImageNameBase: the project's own property built on ours, not a typo of it.</summary>
    private static bool IsOwnVariant(string name, string known) =>
        name.Length >= known.Length + 2 && name.Contains(known, StringComparison.OrdinalIgnoreCase);

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    // ---- splash image ---------------------------------------------------------------------

    /// <summary>The size isolinux's vesamenu shows a MENU BACKGROUND at.</summary>
    public const int SplashWidth = 640, SplashHeight = 480;

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from a PNG's IHDR chunk, or null when the file is not a PNG.</summary>
    public static (int Width, int Height)? PngSize(string path)
    {
        Span<byte> header = stackalloc byte[24];
        using (var stream = File.OpenRead(path))
            if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length) return null;
        if (!header[..8].SequenceEqual(PngSignature) || !header[12..16].SequenceEqual("IHDR"u8)) return null;
        var width = BinaryPrimitives.ReadInt32BigEndian(header[16..20]);
        var height = BinaryPrimitives.ReadInt32BigEndian(header[20..24]);
        return width > 0 && height > 0 ? (width, height) : null;
    }
}
