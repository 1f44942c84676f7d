namespace LiveImage.Sdk.Tests;

/// <summary>
/// What a build without root needs of the host, each a coded error before any stage runs: a user
/// without subordinate ids, a kernel setting that forbids user namespaces (read from a directory the
/// test points the check at), newuidmap/newgidmap not found (looked for where the test says).
/// </summary>
public sealed class RootlessPreflightTests(ITestOutputHelper output)
{
    [Fact]
    public void EachMissingPieceIsACodedErrorNamingItsFixBeforeAnyStage()
    {
        var user = new OrdinaryUser("liveimage-nosubids", withSubordinateIds: false);
        var workspace = new Workspace("rootless-preflight");
        try
        {
            var project = workspace.CopySample("debian-live-minimal");
            var sysctl = Path.Combine(workspace.Root, "sysctl");
            Directory.CreateDirectory(Path.Combine(sysctl, "kernel"));
            File.WriteAllText(Path.Combine(sysctl, "kernel/unprivileged_userns_clone"), "0\n");
            user.Own(workspace.Root);
            var build = workspace.Run(project, output, user.Wrapper(workspace),
                ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", $"-p:_LiveSysctlDirectory={sysctl}", $"-p:_LiveIdMapToolSearchPath={workspace.Root}"]);
            Assert.False(build.Succeeded);
            Assert.Matches($@"error LIVE2041: The user '{user.Name}' has no range .* subordinate user ids in /etc/subuid.* add the line '{user.Name}:\d+:65536' to /etc/subuid", build.Output);
            Assert.Matches(@"error LIVE2041: .* subordinate group ids in /etc/subgid", build.Output);
            Assert.Contains("error LIVE2042: The kernel setting kernel.unprivileged_userns_clone forbids", build.Output);
            Assert.Contains("sysctl -w kernel.unprivileged_userns_clone=1", build.Output);
            Assert.Matches(@"error LIVE2043: The host tool 'newuidmap' .* apt-get install uidmap", build.Output);
            Assert.Matches(@"error LIVE2043: The host tool 'newgidmap'", build.Output);
            Assert.DoesNotContain("bootstrap [amd64]: runs because", build.Output);
            Assert.False(Directory.Exists(Path.Combine(project, "obj/Release/amd64/layers")), "a layer was made despite the errors");
        }
        finally
        {
            Directory.Delete(workspace.Root, recursive: true);
        }
    }
}
