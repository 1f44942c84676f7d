namespace LiveImage.Sdk.Tests;

/// <summary>
/// Issue 6 end to end, cheaply: bad input fails in seconds before any stage; the built minimal
/// image is verified on every Release build and by -t:VerifyImage; a second build of the same
/// project waits for or refuses to share obj/ with the first; a hook that unlocks root fails
/// the build at verification.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class SafetyTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private string LockFile => Path.Combine(image.ProjectDirectory, "obj/Release/amd64.lock");

    /// <summary>A fresh project (not built) with the given properties, items and files.</summary>
    private string Project(string name, string properties, string items, params (string Path, string Content, bool Executable)[] files)
    {
        var dir = Path.Combine(image.Workspace.Root, name);
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
    public void BadHooksAMisspeltPropertyAndAnArchitectureTheSuiteLacksFailBeforeAnyStage()
    {
        var project = Project("bad-input", "    <Suite>trixie</Suite>\n    <Suit>bookworm</Suit>", """    <Hook Include="../bad-input-outside/0300-out.sh" />""",
            ("hooks/0100-crlf.sh", "#!/bin/sh\r\necho crlf\r\n", true),
            ("hooks/0200-noshebang.sh", "echo no shebang\n", true),
            ("../bad-input-outside/0300-out.sh", "#!/bin/sh\n", true));
        var result = image.Workspace.Build(project, output, "-p:Architecture=i386");
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1015: Hook 'hooks/0100-crlf.sh' has Windows (CRLF) line endings", result.Output);
        Assert.Contains("error LIVE1014: Hook 'hooks/0200-noshebang.sh' does not start with a '#!' line", result.Output);
        Assert.Contains("error LIVE1016: Hook '../bad-input-outside/0300-out.sh'", result.Output);
        Assert.Contains("error LIVE1018: Suite 'trixie' has no kernel for architecture 'i386'", result.Output);
        Assert.Contains("bad-input.liveproj(4,", result.Output); // the warning points at the <Suit> line
        Assert.Contains("warning LIVE1019: Property 'Suit' is not a LiveImage.Sdk property and has no effect; did you mean 'Suite'?", result.Output);
        Assert.DoesNotContain("bootstrap [", result.Output);
        Assert.True(result.Duration < TimeSpan.FromSeconds(60), $"input errors took {result.Duration.TotalSeconds:0} s");
    }

    [Fact]
    public void ArchitecturesWithASpaceFailInTheOuterBuildWithLIVE1017()
    {
        var project = Project("bad-architectures", "    <Suite>trixie</Suite>", "");
        var result = image.Workspace.Build(project, output, "-p:Architectures=amd64 arm64");
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1017: Architectures 'amd64 arm64' has the entry 'amd64 arm64'", result.Output);
        Assert.Contains("<Architectures>amd64;arm64</Architectures>", result.Output);
        Assert.DoesNotContain("LiveImage.Sdk tasks", result.Output); // no inner build started
    }

    [Fact]
    public void ReleaseBuildsVerifyTheImageOnceAndVerifyImageAgainOnRequest()
    {
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed");
        Assert.Contains("verify [amd64]: no findings", image.ColdBuild.Output);
        Assert.True(File.Exists(Path.Combine(image.ProjectDirectory, "obj/Release/amd64/verify.stamp")));

        var again = image.Workspace.Build(image.ProjectDirectory, output);
        Assert.True(again.Succeeded);
        Assert.Contains("Skipping target \"_LiveImageVerifyOnBuild\" because all output files are up-to-date", again.Output);

        var verify = image.Workspace.Build(image.ProjectDirectory, output, "-t:VerifyImage");
        Assert.True(verify.Succeeded);
        Assert.Single(verify.Output.Split('\n'), l => l.Trim() == "verify [amd64]: no findings");
    }

    [Fact]
    public void ASecondBuildFailsWithLIVE1022OrWaitsWhileTheProjectIsLocked()
    {
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed");
        // the same flock(LOCK_EX) a running build holds (.NET's FileShare.None), held by this test
        using (new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var refused = image.Workspace.Build(image.ProjectDirectory, output);
            Assert.False(refused.Succeeded);
            Assert.Contains($"error LIVE1022: Another build of this project holds '{LockFile}'", refused.Output);
            Assert.DoesNotContain("LiveImage.Sdk tasks", refused.Output); // it stopped before validating, let alone writing
        }

        var holder = new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        using var release = new Timer(_ => holder.Dispose(), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        var waited = image.Workspace.Build(image.ProjectDirectory, output, "-p:BuildLockTimeout=300");
        holder.Dispose();
        Assert.True(waited.Succeeded);
        Assert.Contains("waiting up to 300 s for it", waited.Output);
    }

    [Fact]
    public void DiskFullWhileSquashingIsLIVE4012NamingStageAndFreeSpaceAndLeavesNoMountOrLoopDevice()
    {
        var copy = image.CopyOfBuiltImage("disk-full");
        var live = Path.Combine(copy, "obj/Release/amd64/iso/live");
        File.Delete(Path.Combine(live, "filesystem.squashfs")); // the squash stage reruns
        // 96 MiB: room for the kernel and initrd (about 55 MiB), not for the 200 MiB squashfs
        var disk = Path.Combine(image.Workspace.Root, "disk-full.ext4");
        Assert.Equal(0, Tools.Run("truncate", "-s", "96M", disk).ExitCode);
        Assert.Equal(0, Tools.Run("mkfs.ext4", "-q", "-F", disk).ExitCode);
        try
        {
            // the small disk is mounted over live/ in a mount namespace of the build's own: the host never sees it
            string[] wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -o loop \"$0\" \"$1\" && shift && exec \"$@\"", disk, live];
            var result = image.Workspace.Run(copy, output, wrapper, ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo"]);
            Assert.False(result.Succeeded);
            Assert.Matches(@"error LIVE4012: The disk filled up in stage squash: mksquashfs ran out of space writing '[^']*/live/filesystem\.squashfs' \(free there now, with the partial output removed: \d+ MiB\)", result.Output);
            Assert.DoesNotContain("LIVE2010", result.Output);
            Assert.False(File.Exists(Path.Combine(live, "filesystem.squashfs")), "no squashfs that looks up to date");
            Assert.Empty(Tools.MountsBelow(copy));
            var settled = DateTime.UtcNow.AddSeconds(10);
            while (Tools.Run("losetup", "-j", disk).Output.Trim().Length > 0 && DateTime.UtcNow < settled) Thread.Sleep(200);
            Assert.Equal("", Tools.Run("losetup", "-j", disk).Output.Trim());
        }
        finally
        {
            File.Delete(disk);
        }
    }

    [Fact]
    public void AHookThatUnlocksRootFailsTheBuildAtVerificationAndAgainNextTime()
    {
        var hook = """
            #!/bin/sh
            set -e
            sed -i 's/^root:[^:]*:/root::/' "$1/etc/shadow"
            echo 'Acquire::http::Proxy "http://proxy.invalid:3128";' > "$1/etc/apt/apt.conf.d/99proxy"
            """;
        var copy = image.CopyOfBuiltImage("verify-fails");
        File.WriteAllText(Path.Combine(copy, "hooks/0200-unlock-root.sh"), hook + "\n");
        File.SetUnixFileMode(Path.Combine(copy, "hooks/0200-unlock-root.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var result = image.Workspace.Build(copy, output);
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE4018: root has an empty password", result.Output);
        Assert.Contains("warning LIVE4015: The image's apt configuration sets a proxy (/etc/apt/apt.conf.d/99proxy, line 1", result.Output);
        Assert.True(File.Exists(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso")), "the ISO stays for inspection");
        Assert.Empty(Tools.MountsBelow(copy));

        // nothing is rebuilt, and the finding is not forgotten
        var next = image.Workspace.Build(copy, output);
        Assert.False(next.Succeeded);
        Assert.Contains("error LIVE4018", next.Output);
        Assert.Contains("Skipping target \"LiveImageIso\" because all output files are up-to-date", next.Output);
    }
}
