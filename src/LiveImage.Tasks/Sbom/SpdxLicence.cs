using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Sbom;

/// <summary>
/// Debian's machine-readable copyright files name licences by short names (GPL-2+, Expat,
/// BSD-3-clause, public-domain); SPDX wants its own identifiers, or LicenseRef-… for the rest.
/// </summary>
internal static partial class SpdxLicence
{
    private static readonly Dictionary<string, string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GPL-1"] = "GPL-1.0-only", ["GPL-1+"] = "GPL-1.0-or-later",
        ["GPL-2"] = "GPL-2.0-only", ["GPL-2+"] = "GPL-2.0-or-later", ["GPL-2.0"] = "GPL-2.0-only", ["GPL-2.0+"] = "GPL-2.0-or-later",
        ["GPL-3"] = "GPL-3.0-only", ["GPL-3+"] = "GPL-3.0-or-later", ["GPL-3.0"] = "GPL-3.0-only", ["GPL-3.0+"] = "GPL-3.0-or-later",
        ["LGPL-2"] = "LGPL-2.0-only", ["LGPL-2+"] = "LGPL-2.0-or-later",
        ["LGPL-2.1"] = "LGPL-2.1-only", ["LGPL-2.1+"] = "LGPL-2.1-or-later",
        ["LGPL-3"] = "LGPL-3.0-only", ["LGPL-3+"] = "LGPL-3.0-or-later",
        ["AGPL-3"] = "AGPL-3.0-only", ["AGPL-3+"] = "AGPL-3.0-or-later",
        ["GFDL-1.2"] = "GFDL-1.2-only", ["GFDL-1.2+"] = "GFDL-1.2-or-later", ["GFDL-1.3"] = "GFDL-1.3-only", ["GFDL-1.3+"] = "GFDL-1.3-or-later",
        ["Apache-2"] = "Apache-2.0", ["Apache-2.0"] = "Apache-2.0", ["Artistic"] = "Artistic-1.0-Perl", ["Artistic-2.0"] = "Artistic-2.0",
        ["BSD-2-clause"] = "BSD-2-Clause", ["BSD-3-clause"] = "BSD-3-Clause", ["BSD-4-clause"] = "BSD-4-Clause",
        ["Expat"] = "MIT", ["MIT"] = "MIT", ["ISC"] = "ISC", ["Zlib"] = "Zlib", ["CC0-1.0"] = "CC0-1.0", ["CC0"] = "CC0-1.0",
        ["MPL-1.1"] = "MPL-1.1", ["MPL-2.0"] = "MPL-2.0", ["OpenSSL"] = "OpenSSL", ["PSF-2"] = "PSF-2.0", ["Unicode-DFS-2016"] = "Unicode-DFS-2016",
        ["BSL-1.0"] = "BSL-1.0", ["curl"] = "curl", ["X11"] = "X11", ["BSD-2-Clause"] = "BSD-2-Clause", ["BSD-3-Clause"] = "BSD-3-Clause",
    };

    /// <summary>
    /// The SPDX expression of a package's licences (each as its copyright file names it, "GPL-2+ or Artistic"
    /// included): every one ANDed, each name mapped; names SPDX does not know become LicenseRef-…, added to
    /// <paramref name="references"/>; NOASSERTION when there are none.
    /// </summary>
    public static string Expression(IEnumerable<string> licences, ISet<string> references)
    {
        var parts = licences.SelectMany(l => And().Split(l.Trim())).Where(p => p.Trim().Length > 0)
            .Select(p => Or().Split(p.Trim()).Where(a => a.Trim().Length > 0).Select(a => Name(a, references)).Distinct().ToList())
            .Select(a => a.Count == 1 ? a[0] : "(" + string.Join(" OR ", a) + ")")
            .Distinct().Order(StringComparer.Ordinal).ToList();
        return parts.Count == 0 ? "NOASSERTION" : string.Join(" AND ", parts);
    }

    private static string Name(string name, ISet<string> references)
    {
        var trimmed = name.Trim();
        if (Known.TryGetValue(trimmed, out var id)) return id;
        var reference = "LicenseRef-" + Unsafe().Replace(trimmed, "-").Trim('-');
        references.Add(reference);
        return reference;
    }

    [GeneratedRegex(@"\s+or\s+", RegexOptions.IgnoreCase)]
    private static partial Regex Or();

    [GeneratedRegex(@"\s+and\s+|,\s*", RegexOptions.IgnoreCase)]
    private static partial Regex And();

    [GeneratedRegex(@"[^A-Za-z0-9.\-]+")]
    private static partial Regex Unsafe();
}
