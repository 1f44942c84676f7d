using System.Reflection;

namespace LiveImage.Sdk.Tests;

/// <summary>Paths baked in at build time: the repo, the freshly packed SDK feed, the task assembly.</summary>
internal static class TestEnvironment
{
    private static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepoRoot => Metadata("RepoRoot");
    public static string PackageFeed => Metadata("PackageFeed");
    /// <summary>The version the SDK was last packed as (a local pack's version changes with its content).</summary>
    public static string SdkVersion => File.ReadAllText(Path.Combine(PackageFeed, "LiveImage.Sdk.version")).Trim();
    /// <summary>The 'dotnet new' templates packed beside the SDK, pinned to it.</summary>
    public static string TemplatesPackage => Path.Combine(PackageFeed, $"LiveImage.Templates.{SdkVersion}.nupkg");
    public static string TasksAssembly => Metadata("TasksAssembly");
    public static string Sample(string name) => Path.Combine(RepoRoot, "samples", name);
}
