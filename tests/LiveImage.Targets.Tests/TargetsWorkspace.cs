namespace LiveImage.Targets.Tests;

/// <summary>
/// One workspace (its own nuget.config, global.json and NUGET_PACKAGES, as the end-to-end tests')
/// for the whole tier, so the freshly packed SDK is extracted once. Its projects are never built:
/// <see cref="Resolve"/> runs only the targets that check the project's input.
/// </summary>
public sealed class TargetsWorkspace : IDisposable
{
    internal Workspace Workspace { get; } = new("targets");

    public string Root => Workspace.Root;

    /// <summary>A copy of a sample (never built) in the workspace.</summary>
    public string CopySample(string sample, string copyName) => Workspace.CopySample(sample, copyName);

    /// <summary>
    /// 'dotnet build -t:LiveImageResolve': in a single-architecture project the lock and the input checks
    /// (LiveImageResolve and the targets that run after it); in an outer build (Architectures) its own
    /// checks, then the same in each inner build. No stage runs. The root check is off: nothing here
    /// needs root, so the tier runs without it.
    /// </summary>
    public BuildResult Resolve(string projectDirectory, ITestOutputHelper output, params string[] arguments) =>
        Workspace.Build(projectDirectory, output, ["-t:LiveImageResolve", "-p:LiveImageRequireRoot=false", .. arguments]);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Directory.Delete(Workspace.Root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class TargetsWorkspaceCollection : ICollectionFixture<TargetsWorkspace>
{
    public const string Name = "targets workspace";
}
