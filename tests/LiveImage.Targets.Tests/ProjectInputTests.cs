namespace LiveImage.Targets.Tests;

/// <summary>
/// Bad project input fails in seconds, before any stage: unknown architectures, bad hooks, a misspelt
/// property, an architecture the suite lacks, Architectures with a space, and a second build of a
/// project whose obj/ another build holds. Temporary projects, never built: only the input checks run.
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class ProjectInputTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    /// <summary>A fresh project (not built) with the given properties, items and files.</summary>
    private string Project(string name, string properties, string items, params (string Path, string Content, bool Executable)[] files)
    {
        var dir = Path.Combine(workspace.Root, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".liveproj"), $"""
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
            {properties}
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);
        foreach (var (path, content, executable) in files)
        {
            var full = Path.GetFullPath(Path.Combine(dir, path));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
            if (executable) File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return dir;
    }

    [Fact]
    public void UnknownArchitectureFailsAtOnceWithLIVE1001()
    {
        var result = workspace.Resolve(workspace.CopySample("debian-live-minimal", "bad-arch"), output, "-p:Architecture=amd46");
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1001: Architecture 'amd46'", result.Output);
        Assert.DoesNotContain("bootstrap [", result.Output);
    }

    [Fact]
    public void BadHooksAMisspeltPropertyAndAnArchitectureTheSuiteLacksFailBeforeAnyStage()
    {
        var project = Project("bad-input", "    <Suite>trixie</Suite>\n    <Suit>bookworm</Suit>", """    <Hook Include="../bad-input-outside/0300-out.sh" />""",
            ("hooks/0100-crlf.sh", "#!/bin/sh\r\necho crlf\r\n", true),
            ("hooks/0200-noshebang.sh", "echo no shebang\n", true),
            ("../bad-input-outside/0300-out.sh", "#!/bin/sh\n", true));
        var result = workspace.Resolve(project, output, "-p:Architecture=i386");
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1015: Hook 'hooks/0100-crlf.sh' has Windows (CRLF) line endings", result.Output);
        Assert.Contains("error LIVE1014: Hook 'hooks/0200-noshebang.sh' does not start with a '#!' line", result.Output);
        Assert.Contains("error LIVE1016: Hook '../bad-input-outside/0300-out.sh'", result.Output);
        Assert.Contains("error LIVE1018: Suite 'trixie' has no kernel for architecture 'i386'", result.Output);
        Assert.Contains("bad-input.liveproj(4,", result.Output); // the warning points at the <Suit> line
        Assert.Contains("warning LIVE1019: Property 'Suit' is not a LiveImage.Sdk property and has no effect; did you mean 'Suite'?", result.Output);
        Assert.DoesNotContain("bootstrap [", result.Output);
        output.WriteLine($"input errors took {result.Duration.TotalSeconds:0.0} s"); // a figure, not an assertion: what matters is that no stage ran
    }

    [Fact]
    public void ArchitecturesWithASpaceFailInTheOuterBuildWithLIVE1017()
    {
        var project = Project("bad-architectures", "    <Suite>trixie</Suite>", "");
        var result = workspace.Resolve(project, output, "-p:Architectures=amd64 arm64");
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1017: Architectures 'amd64 arm64' has the entry 'amd64 arm64'", result.Output);
        Assert.Contains("<Architectures>amd64;arm64</Architectures>", result.Output);
        Assert.DoesNotContain("LiveImage.Sdk tasks", result.Output); // no inner build started
    }

    [Fact]
    public void ASecondBuildFailsWithLIVE1022OrWaitsWhileTheProjectIsLocked()
    {
        var project = workspace.CopySample("debian-live-minimal", "locked");
        var lockFile = Path.Combine(project, "obj/Release/amd64.lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        // the same flock(LOCK_EX) a running build holds (.NET's FileShare.None), held by this test
        using (new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var refused = workspace.Resolve(project, output);
            Assert.False(refused.Succeeded);
            Assert.Contains($"error LIVE1022: Another build of this project holds '{lockFile}'", refused.Output);
            Assert.DoesNotContain("LiveImage.Sdk tasks", refused.Output); // it stopped before validating, let alone writing
        }

        // held long enough for the second build to reach the lock even when a busy machine is slow to start it
        var holder = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        using var release = new Timer(_ => holder.Dispose(), null, TimeSpan.FromSeconds(20), Timeout.InfiniteTimeSpan);
        var waited = workspace.Resolve(project, output, "-p:BuildLockTimeout=300");
        holder.Dispose();
        Assert.True(waited.Succeeded);
        Assert.Contains("waiting up to 300 s for it", waited.Output);
    }
}
