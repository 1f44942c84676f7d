namespace LiveImage.Targets.Tests;

/// <summary>
/// A local pack never leaves a project outside the repository on a stale SDK: the version is the package's
/// content hash, so a changed SDK is a new version, which no NuGet cache holds yet, and the same content packs
/// as the same version again. The SDK is packed from a copy of its sources, changed and packed again; a project
/// outside both, with one NuGet cache throughout, builds with each version in turn.
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class SdkVersionTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    [Fact]
    public void ARepackedSdkHasANewVersionThatAProjectOutsideTheRepositoryPicksUp()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+-dev\.[0-9a-f]{12}$", TestEnvironment.SdkVersion);
        var root = Path.Combine(Path.GetTempPath(), $"liveimage-sdkversion-{Environment.ProcessId}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        try
        {
            var repo = Path.Combine(root, "repo");
            foreach (var file in new[] { "Directory.Build.props", "Directory.Build.rsp", "global.json", "nuget.config" })
                Copy(Path.Combine(TestEnvironment.RepoRoot, file), Path.Combine(repo, file));
            foreach (var project in new[] { "src/LiveImage.Sdk", "src/LiveImage.Tasks" })
                CopyTree(Path.Combine(TestEnvironment.RepoRoot, project), Path.Combine(repo, project));
            var feed = Path.Combine(repo, "artifacts/packages");
            // the user's NuGet cache, for the copy's restore; the outside project has one of its own (NUGET_PACKAGES) for all its builds
            var userCache = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = null };

            string Pack()
            {
                var pack = workspace.Workspace.Run(repo, output, [], ["build", "-nodeReuse:false", "-tl:off", "-nologo", "-c", "Release", "src/LiveImage.Sdk"], userCache);
                Assert.True(pack.Succeeded);
                var version = File.ReadAllText(Path.Combine(feed, "LiveImage.Sdk.version")).Trim();
                Assert.Contains($"LiveImage.Sdk {version} ->", pack.Output);
                Assert.Equal([$"LiveImage.Sdk.{version}.nupkg"], Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName));
                return version;
            }

            var outside = Path.Combine(root, "MyImage");
            Directory.CreateDirectory(outside);
            File.WriteAllText(Path.Combine(outside, "MyImage.liveproj"), """<Project Sdk="LiveImage.Sdk" />""");
            File.WriteAllText(Path.Combine(outside, "nuget.config"), $"""
                <configuration><packageSources><clear /><add key="local" value="{feed}" /></packageSources></configuration>
                """);
            string Evaluate(string version)
            {
                File.WriteAllText(Path.Combine(outside, "global.json"), $$"""{ "msbuild-sdks": { "LiveImage.Sdk": "{{version}}" } }""");
                var result = workspace.Workspace.Run(outside, output, [], ["build", "-nodeReuse:false", "-nologo", "-getProperty:LiveImageSdkDirectory", "-getProperty:LiveImageTestMarker"]);
                Assert.True(result.Succeeded);
                return result.Output;
            }

            var first = Pack();
            Assert.Equal(first, Pack()); // the same content: the same version, nothing new for any cache
            var before = Evaluate(first);
            Assert.Contains($"liveimage.sdk/{first}/Sdk/", before);
            Assert.DoesNotContain("changed", before);

            var props = Path.Combine(repo, "src/LiveImage.Sdk/Sdk/Sdk.props");
            File.WriteAllText(props, File.ReadAllText(props).Replace("<UsingLiveImageSdk>true</UsingLiveImageSdk>",
                "<UsingLiveImageSdk>true</UsingLiveImageSdk><LiveImageTestMarker>changed</LiveImageTestMarker>"));
            var second = Pack();
            Assert.NotEqual(first, second);
            var after = Evaluate(second);
            Assert.Contains($"liveimage.sdk/{second}/Sdk/", after);
            Assert.Contains("changed", after);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Directory.Delete(root, recursive: true);
        }
    }

    private static void Copy(string source, string destination)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        File.Copy(source, destination);
    }

    private static void CopyTree(string source, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("obj/") || relative.StartsWith("bin/")) continue;
            Copy(file, Path.Combine(destination, relative));
        }
    }
}
