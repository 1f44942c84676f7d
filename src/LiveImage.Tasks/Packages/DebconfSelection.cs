using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Packages;

/// <summary>
/// One debconf answer as debconf-set-selections reads it: "owner question type value" (a preseed
/// file's line). The packages stage sets them in the image before it installs a package, so the
/// package's configuration asks nothing and uses these answers.
/// </summary>
internal sealed partial record DebconfSelection(string Owner, string Question, string Type, string Value)
{
    /// <summary>The types debconf-set-selections knows.</summary>
    public static readonly IReadOnlyList<string> Types = ["select", "multiselect", "string", "boolean", "password", "note", "text", "title", "error"];

    public string Line => $"{Owner} {Question} {Type} {Value}".TrimEnd();

    /// <summary>What is wrong with the answer, or null: each part checked as debconf would read it.</summary>
    public string? Problem()
    {
        if (!OwnerName().IsMatch(Owner)) return $"the owner '{Owner}' is not a package name";
        if (!QuestionName().IsMatch(Question)) return $"the question '{Question}' is not of the form owner/name (no spaces)";
        if (!Types.Contains(Type)) return $"the type '{Type}' is not one of {string.Join(", ", Types)}";
        if (Value.IndexOfAny(['\n', '\r']) >= 0) return "the value has a line break";
        if (Type == "boolean" && Value is not ("true" or "false")) return $"a boolean's value must be true or false, not '{Value}'";
        return null;
    }

    /// <summary>
    /// The answers of a preseed file: comments ('#' first on a line) and blank lines skipped, a line ending
    /// in '\' continued on the next; each answer with the number of its (first) line, or the problem of the line.
    /// </summary>
    public static List<(int Line, DebconfSelection? Selection, string? Problem)> ParseFile(IReadOnlyList<string> lines)
    {
        var result = new List<(int, DebconfSelection?, string?)>();
        for (var i = 0; i < lines.Count; i++)
        {
            var first = i + 1;
            var text = lines[i];
            while (text.EndsWith('\\') && i + 1 < lines.Count) text = text[..^1] + lines[++i].TrimStart();
            var trimmed = text.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            var m = FileLine().Match(trimmed);
            if (!m.Success) { result.Add((first, null, "it has fewer than the three fields owner, question and type (then the value)")); continue; }
            var selection = new DebconfSelection(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value);
            result.Add((first, selection.Problem() is null ? selection : null, selection.Problem()));
        }
        return result;
    }

    [GeneratedRegex(@"^(\S+)\s+(\S+)\s+(\S+)(?:\s(.*))?$")]
    private static partial Regex FileLine();

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]*$")]
    private static partial Regex OwnerName();

    [GeneratedRegex(@"^[A-Za-z0-9][^\s/]*(/[^\s/]+)+$")]
    private static partial Regex QuestionName();
}
