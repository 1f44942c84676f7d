using System.Reflection;

namespace LiveImage.Sdk.Tests;

/// <summary>Paths baked in at build time: the repo, the freshly packed SDK feed, the task assembly.</summary>
internal static class TestEnvironment
{
    private static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepoRoot => Metadata("RepoRoot");
    public static string PackageFeed => Metadata("PackageFeed");
    public static string SdkVersion => Metadata("SdkVersion");
    public static string TasksAssembly => Metadata("TasksAssembly");
    public static string Sample(string name) => Path.Combine(RepoRoot, "samples", name);
}
