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

    public MinimalImageFixture()
    {
        ProjectDirectory = Workspace.CopySample("debian-live-minimal");
        ColdBuild = Workspace.Build(ProjectDirectory, null);
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
