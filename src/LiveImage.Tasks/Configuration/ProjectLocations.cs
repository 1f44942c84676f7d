using System.Xml;
using System.Xml.Linq;
using LiveImage.Tasks.Diagnostics;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.Configuration;


/// <summary>
/// Where the project file sets a property or declares an item. Tasks only see evaluated values,
/// so, as LIVE1019 does, the project's XML is read again with line numbers: errors about an input
/// then point at the .liveproj line that sets it (MSBuild would place them at the SDK's task).
/// An input the project does not set (a default, a command-line property) has no location.
/// </summary>
internal sealed class ProjectLocations
{
    private readonly string _file;
    private readonly XElement? _root;

    private ProjectLocations(string file, XElement? root) => (_file, _root) = (file, root);

    public static readonly ProjectLocations None = new("", null);

    public static ProjectLocations Load(string projectFile)
    {
        if (projectFile.Length == 0 || !File.Exists(projectFile)) return None;
        try { return new(projectFile, XDocument.Load(projectFile, LoadOptions.SetLineInfo).Root); }
        catch (Exception e) when (e is XmlException or IOException) { return None; }
    }

    /// <summary>The last top-level element that sets the property (the one evaluation keeps).</summary>
    public SourceLocation? Property(string name) =>
        At(Groups("PropertyGroup").SelectMany(g => g.Elements()).LastOrDefault(e => e.Name.LocalName.Equals(name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The item element whose Include names <paramref name="spec"/>, literally or through a wildcard.</summary>
    public SourceLocation? Item(string itemType, string spec)
    {
        // a full path (a resolved item) is compared as the project writes it: relative to its directory
        var wanted = Normalize(Path.IsPathRooted(spec) && _file.Length > 0 ? Path.GetRelativePath(Path.GetDirectoryName(_file)!, spec) : spec);
        return At(ItemElements(itemType).FirstOrDefault(e => IncludeParts(e).Any(p => p == wanted || (IsWildcard(p) && Glob.Matches(p, wanted)))));
    }

    /// <summary>Every wildcard in the Include of the project's items of a type, with its element's place.</summary>
    public IEnumerable<(string Pattern, SourceLocation Location)> Wildcards(string itemType) =>
        from e in ItemElements(itemType)
        from p in IncludeParts(e)
        where IsWildcard(p) && !p.Contains("$(") && !p.Contains("@(") && !p.Contains("%(")
        select (p, At(e)!);

    private IEnumerable<XElement> Groups(string name) => _root?.Elements().Where(e => e.Name.LocalName == name) ?? [];

    private IEnumerable<XElement> ItemElements(string itemType) =>
        Groups("ItemGroup").SelectMany(g => g.Elements()).Where(e => e.Name.LocalName == itemType && e.Attribute("Include") is not null);

    private static IEnumerable<string> IncludeParts(XElement item) =>
        item.Attribute("Include")!.Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Normalize);

    private static string Normalize(string path)
    {
        path = path.Replace('\\', '/');
        return path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path;
    }

    private static bool IsWildcard(string pattern) => Glob.IsWildcard(pattern);

    private SourceLocation? At(XElement? element) =>
        element is IXmlLineInfo info && info.HasLineInfo() ? new SourceLocation(_file, info.LineNumber, info.LinePosition) : null;
}

/// <summary>Logging at a <see cref="SourceLocation"/> when there is one, else where MSBuild puts it (the task).</summary>
internal static class LocatedLog
{
    public static void Error(this TaskLoggingHelper log, SourceLocation? at, string resource, params object[] args)
    {
        if (at is null) { log.LogErrorWithCodeFromResources(resource, args); return; }
        var code = log.ExtractMessageCode(log.FormatResourceString(resource, args), out var text);
        log.LogError(null, code, null, at.File, at.Line, at.Column, 0, 0, text);
    }

    public static void Warning(this TaskLoggingHelper log, SourceLocation? at, string resource, params object[] args)
    {
        if (at is null) { log.LogWarningWithCodeFromResources(resource, args); return; }
        var code = log.ExtractMessageCode(log.FormatResourceString(resource, args), out var text);
        log.LogWarning(null, code, null, at.File, at.Line, at.Column, 0, 0, text);
    }
}
