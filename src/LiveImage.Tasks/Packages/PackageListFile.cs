using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Packages;

/// <summary>One package of a list file and the line that names it.</summary>
internal sealed record PackageListEntry(string Package, int Line);

/// <summary>What is wrong on a line of a list file: a token that is no package name, or a live-build directive.</summary>
internal sealed record PackageListProblem(int Line, string Token, bool IsDirective);

/// <summary>
/// A package list in live-build's config/package-lists/*.list.chroot form: package names separated by
/// white space, any number per line, '#' to the end of the line a comment, blank lines ignored. A name
/// may carry an apt pin or architecture (name=version, name:arch), as a Package item may. live-build's
/// #include, #if and '!' lines are refused rather than taken for comments: their packages would
/// silently miss from the image (several PackageList items and Architectures metadata do their work).
/// </summary>
internal static partial class PackageListFile
{
    public static (List<PackageListEntry> Packages, List<PackageListProblem> Problems) Parse(IEnumerable<string> lines)
    {
        var packages = new List<PackageListEntry>();
        var problems = new List<PackageListProblem>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var trimmed = raw.Trim();
            if (Directive().Match(trimmed) is { Success: true } directive)
            {
                problems.Add(new PackageListProblem(number, directive.Value, IsDirective: true));
                continue;
            }
            var hash = raw.IndexOf('#');
            var text = hash >= 0 ? raw[..hash] : raw;
            foreach (var token in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (IsPackage(token)) packages.Add(new PackageListEntry(token, number));
                else problems.Add(new PackageListProblem(number, token, IsDirective: false));
            }
        }
        return (packages, problems);
    }

    /// <summary>A Debian package name, with an optional =version or :architecture as apt accepts them.</summary>
    public static bool IsPackage(string token) => PackageName().IsMatch(token.Split('=', ':')[0]) && !token.EndsWith('=') && !token.EndsWith(':');

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+$")]
    private static partial Regex PackageName();

    /// <summary>live-build's #include, #if/#else/#endif and '!' (a command whose output is the list).</summary>
    [GeneratedRegex(@"^(#\s*(include|if|endif|else)\b|!)")]
    private static partial Regex Directive();
}
