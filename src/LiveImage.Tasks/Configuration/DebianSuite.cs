namespace LiveImage.Tasks.Configuration;

/// <summary>The Debian suites the SDK builds, with the aliases apt understands.</summary>
internal static class DebianSuite
{
    public static readonly IReadOnlyList<string> Codenames = ["bullseye", "bookworm", "trixie", "forky", "sid"];
    public static readonly IReadOnlyList<string> Aliases = ["oldstable", "stable", "testing", "unstable"];

    public static bool IsKnown(string suite) => Codenames.Contains(suite) || Aliases.Contains(suite);

    public static string Names => string.Join(", ", Codenames.Concat(Aliases));
}
