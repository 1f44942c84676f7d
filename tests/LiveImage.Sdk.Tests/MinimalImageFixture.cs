namespace LiveImage.Sdk.Tests;

/// <summary>
/// Builds samples/debian-live-minimal once, cold, in a workspace of its own; the tests that
/// inspect, rebuild and boot it share the result.
/// </summary>
public sealed class MinimalImageFixture : IDisposable
{
    internal Workspace Workspace { get; } = new("minimal");
    public string ProjectDirectory { get; }
    public BuildResult ColdBuild { get; }
    public string IsoPath => Path.Combine(ProjectDirectory, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso");
    public string Squashfs => Path.Combine(ProjectDirectory, "obj/Release/amd64/iso/live/filesystem.squashfs");
    /// <summary>The stage cache the cold build filled (StageCacheTests restore from it).</summary>
    public string StageCacheDirectory => Path.Combine(Workspace.Root, "minimal-stage-cache");

    public MinimalImageFixture()
    {
        ProjectDirectory = Workspace.CopySample("debian-live-minimal");
        ColdBuild = Workspace.Build(ProjectDirectory, null, "-p:StageCache=true", $"-p:StageCacheDirectory={StageCacheDirectory}/");
    }

    /// <summary>
    /// A copy of the built sample, layers and all (cp -a keeps overlay whiteouts and owners), with
    /// the given text added to its ItemGroup: each test then reruns only the stages it is about.
    /// </summary>
    public string CopyOfBuiltImage(string name, string items = "")
    {
        Assert.True(ColdBuild.Succeeded, "the cold build of the minimal sample failed");
        var copy = Path.Combine(Workspace.Root, name);
        if (Directory.Exists(copy)) Directory.Delete(copy, recursive: true);
        var (code, text) = Tools.Run("cp", "-a", ProjectDirectory, copy);
        Assert.True(code == 0, text);
        AddItems(copy, items);
        return copy;
    }

    /// <summary>Adds text to the ItemGroup of a copy's project.</summary>
    public static void AddItems(string copy, string items)
    {
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</ItemGroup>", items + "\n  </ItemGroup>"));
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Directory.Delete(Workspace.Root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class MinimalImageCollection : ICollectionFixture<MinimalImageFixture>
{
    public const string Name = "minimal image";
}
